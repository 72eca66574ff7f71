import { booleanPointInPolygon, circle, point, polygon } from '@turf/turf';
import type { Feature, Polygon } from 'geojson';
import type { DeliveryAssignment, DeliveryStage, DeliveryTracking, DroneStatus, TrackingEventType } from '@aerie/contracts';
import { missionMarks, pathLengthM, remainingPath } from './mission-plan.js';

type ActiveStage = Extract<DeliveryStage, 'Scheduled' | 'HeadedToPickup' | 'PickedUp' | 'HeadedToDropoff'>;
type AlertKind = NonNullable<DeliveryTracking['alert']>;

interface Active {
  assignment: DeliveryAssignment;
  stage: ActiveStage;
  pickupFence: Feature<Polygon>;
  dropoffFence: Feature<Polygon>;
  /** Newest status time applied; older ones are ignored (out-of-order delivery). */
  lastTs: number;
  /** Hub time of the last status, for staleness. */
  lastSeenAt: number;
  lastEta: number | null;
  lastStatus: DroneStatus | null;
  /** Alerts raised and not yet cleared: each is sent once per episode, not per message. */
  raised: Set<AlertKind>;
  /** Seen while headed to the dropoff: landed inside its fence / the payload released (in either order). */
  landedAtDropoff: boolean;
  released: boolean;
  /** This delivery's mission (routed waypoints make it longer): its item count and the takeoff from the pickup. */
  marks: ReturnType<typeof missionMarks>;
}

export type TrackingDraft = Omit<DeliveryTracking, 'v' | 'eventId'>;

export interface TrackerOptions {
  /** Radius of the pickup and dropoff geofences (m). */
  fenceRadiusM: number;
  /** No status for this long → telemetry_stale alert (ms). */
  staleMs: number;
  /** Speed the ETA assumes between waypoints (m/s). */
  cruiseSpeedMs: number;
  /** EtaUpdated only when the ETA moved by at least this much (ms). */
  etaMinChangeMs: number;
  /** Battery model: charge used per km flown (%), and the reserve to land with (%). */
  batteryPctPerKm: number;
  batteryReservePct: number;
  /** No-fly zones: polygons as rings of [lon, lat] (GeoJSON order, first point repeated last). */
  noFlyZones: readonly { name: string; ring: readonly (readonly [number, number])[] }[];
}

export const defaultTrackerOptions: Readonly<TrackerOptions> = Object.freeze({
  fenceRadiusM: 15, staleMs: 15_000, cruiseSpeedMs: 10, etaMinChangeMs: 30_000, batteryPctPerKm: 4, batteryReservePct: 20,
  noFlyZones: [],
});

/** DeliveryCompleted's reason: the payload release decided, or the landing alone (an agent that cannot tell). */
export const COMPLETED_BY_RELEASE = 'payload released at the dropoff';
export const COMPLETED_BY_LANDING = 'landed at the dropoff; payload state not reported';

const STAGE_ORDER: readonly ActiveStage[] = ['Scheduled', 'HeadedToPickup', 'PickedUp', 'HeadedToDropoff'];
const IN_AIR = new Set<DroneStatus['landedState']>(['IN_AIR', 'TAKEOFF', 'LANDING']);

/**
 * Turns DroneStatus into delivery stages: airborne or mission progress → HeadedToPickup; landed
 * inside the pickup fence → PickedUp; airborne again or past the pickup's items → HeadedToDropoff;
 * landed inside the dropoff fence with the payload released → Completed; RTL with the package on board → Failed. Stages
 * only move forward, and a status older than the newest applied is ignored. Pure: time comes in.
 */
export class DeliveryTracker {
  private readonly byDrone = new Map<string, Active>();
  private readonly o: Readonly<TrackerOptions>;
  private readonly zones: { name: string; area: Feature<Polygon> }[];

  constructor(options: number | Partial<TrackerOptions> = {}) {
    this.o = { ...defaultTrackerOptions, ...(typeof options === 'number' ? { fenceRadiusM: options } : options) };
    this.zones = this.o.noFlyZones.map((z) => ({ name: z.name, area: polygon([z.ring.map(([lon, lat]) => [lon, lat])]) }));
  }

  /** Starts tracking; a delivery moved to another drone yields DeliveryRescheduled. */
  assign(a: DeliveryAssignment, now = a.ts): TrackingDraft[] {
    const out: TrackingDraft[] = [];
    const previous = [...this.byDrone.values()].find((x) => x.assignment.deliveryId === a.deliveryId);
    if (previous && previous.assignment.droneId !== a.droneId) {
      this.byDrone.delete(previous.assignment.droneId);
      out.push(draft(a, 'DeliveryRescheduled', 'Scheduled', now, null, null, { reason: `moved from ${previous.assignment.droneId}` }));
    }
    const fence = (p: { lat: number; lon: number }) => circle([p.lon, p.lat], this.o.fenceRadiusM / 1000, { steps: 32, units: 'kilometers' });
    this.byDrone.set(a.droneId, {
      assignment: a, stage: 'Scheduled', pickupFence: fence(a.pickup), dropoffFence: fence(a.dropoff),
      lastTs: -Infinity, lastSeenAt: now, lastEta: null, lastStatus: null, raised: new Set(),
      landedAtDropoff: false, released: false, marks: missionMarks(a),
    });
    return out;
  }

  /** Stops tracking; returns the assignment it dropped, if any. */
  release(deliveryId: string): DeliveryAssignment | null {
    for (const [droneId, active] of this.byDrone) {
      if (active.assignment.deliveryId === deliveryId) {
        this.byDrone.delete(droneId);
        return active.assignment;
      }
    }
    return null;
  }

  /**
   * Scale-out: another hub reached `stage` on this delivery (its retained tracker state). Moves
   * the stage forward, never back, so a hub that takes the drone over carries on from there.
   */
  restoreStage(deliveryId: string, stage: ActiveStage): void {
    for (const a of this.byDrone.values()) {
      if (a.assignment.deliveryId === deliveryId && STAGE_ORDER.indexOf(stage) > STAGE_ORDER.indexOf(a.stage)) a.stage = stage;
    }
  }

  activeFor(droneId: string): DeliveryAssignment | null {
    return this.byDrone.get(droneId)?.assignment ?? null;
  }

  /** The newest status applied for a drone on a delivery (also one forwarded by another hub), if any. */
  lastStatusOf(droneId: string): DroneStatus | null {
    return this.byDrone.get(droneId)?.lastStatus ?? null;
  }

  get activeCount(): number {
    return this.byDrone.size;
  }

  /** Periodic check: alerts for deliveries whose drone has gone quiet. */
  onTick(now: number): TrackingDraft[] {
    const out: TrackingDraft[] = [];
    for (const a of this.byDrone.values()) {
      if (now - a.lastSeenAt >= this.o.staleMs && !a.raised.has('telemetry_stale')) {
        a.raised.add('telemetry_stale');
        out.push(draft(a.assignment, 'DeliveryAlert', a.stage, now, a.lastStatus, a.lastEta, {
          alert: 'telemetry_stale', reason: `no status for ${Math.round((now - a.lastSeenAt) / 1000)} s`,
        }));
      }
    }
    return out;
  }

  onStatus(s: DroneStatus, now = s.ts): TrackingDraft[] {
    const a = this.byDrone.get(s.droneId);
    if (!a || !s.position || s.ts < a.lastTs) return [];
    a.lastTs = s.ts;
    a.lastSeenAt = now;
    a.lastStatus = s;
    a.raised.delete('telemetry_stale');
    const out: TrackingDraft[] = [];
    const emit = (type: TrackingEventType, stage: DeliveryStage, extra: Partial<TrackingDraft> = {}) =>
      out.push(draft(a.assignment, type, stage, s.ts, s, a.lastEta, extra));
    const airborne = IN_AIR.has(s.landedState);
    const landed = s.landedState === 'ON_GROUND';
    const here = point([s.position.lon, s.position.lat]);
    const planned = s.mission.total === a.marks.total;
    const onBoard = a.stage === 'PickedUp' || a.stage === 'HeadedToDropoff';

    if (s.health.failsafe && !a.raised.has('failsafe')) {
      a.raised.add('failsafe');
      emit('DeliveryAlert', a.stage, { alert: 'failsafe', reason: `failsafe in ${s.flightMode}` });
    } else if (!s.health.failsafe) a.raised.delete('failsafe');
    // A return-to-launch with the package on board cannot complete the delivery.
    if (onBoard && s.flightMode === 'RETURN' && (s.health.failsafe || a.raised.has('failsafe'))) {
      this.byDrone.delete(s.droneId);
      emit('DeliveryFailed', 'Failed', { reason: 'failsafe return-to-launch with the package on board', eta: null });
      return out;
    }

    const advance = (stage: ActiveStage, type: TrackingEventType) => {
      a.stage = stage;
      a.lastEta = this.eta(a, s);
      emit(type, stage, { eta: a.lastEta });
    };
    switch (a.stage) {
      case 'Scheduled':
        if (airborne || (planned && s.armed && s.mission.current >= 1)) advance('HeadedToPickup', 'DeliveryHeadedToPickup');
        break;
      case 'HeadedToPickup':
        // Or the mission is past the pickup's landing and grab (items run in order): a gap in the
        // drone's telemetry — its agent restarting (bench:faults' kill -9) — can hide the landing
        // itself, and the delivery would wait at HeadedToPickup for ever.
        if ((landed && booleanPointInPolygon(here, a.pickupFence)) || (planned && a.marks.takeoffFromPickup > 0 && s.mission.current >= a.marks.takeoffFromPickup)) {
          advance('PickedUp', 'PackagePickedUp');
        }
        break;
      case 'PickedUp':
        if (airborne || (planned && s.mission.current >= a.marks.takeoffFromPickup)) advance('HeadedToDropoff', 'DeliveryHeadedToDropoff');
        break;
      case 'HeadedToDropoff': {
        // Completed = landed inside the dropoff fence AND the payload released (DroneStatus.payload),
        // the two seen in either order. Fallback for agents that cannot tell (payload absent or
        // 'unknown', e.g. PX4, which reports no gripper state): landed inside the fence is enough,
        // as before. A drone that says the payload is still on board does not complete.
        const inFence = booleanPointInPolygon(here, a.dropoffFence);
        // The mission past the dropoff's landing and release (items run in order) stands for both
        // when a gap in telemetry (the agent restarting) hid them, as at the pickup.
        const pastDropoff = planned && a.marks.takeoffFromDropoff > 0 && s.mission.current >= a.marks.takeoffFromDropoff;
        // Released elsewhere (dropped on the way) is not a delivery.
        if (s.payload === 'released' && (inFence || pastDropoff)) a.released = true;
        if ((landed && inFence) || pastDropoff) a.landedAtDropoff = true;
        const unreported = s.payload === undefined || s.payload === 'unknown';
        if (a.landedAtDropoff && (a.released || (unreported && ((landed && inFence) || pastDropoff)))) {
          this.byDrone.delete(s.droneId);
          // Says which rule decided, so a release that never came (fallback) is visible downstream.
          emit('DeliveryCompleted', 'Completed', { eta: s.ts, reason: a.released ? COMPLETED_BY_RELEASE : COMPLETED_BY_LANDING });
          return out;
        }
        break;
      }
    }
    if (out.every((e) => e.type === 'DeliveryAlert')) {
      const eta = this.eta(a, s);
      if (a.lastEta === null || Math.abs(eta - a.lastEta) >= this.o.etaMinChangeMs) {
        a.lastEta = eta;
        emit('EtaUpdated', a.stage, { eta });
      }
    }
    this.checkBattery(a, s, emit);
    const zone = this.zones.find((z) => booleanPointInPolygon(here, z.area));
    if (zone && !a.raised.has('no_fly_zone')) {
      a.raised.add('no_fly_zone');
      emit('DeliveryAlert', a.stage, { alert: 'no_fly_zone', reason: `inside no-fly zone ${zone.name}` });
    } else if (!zone) a.raised.delete('no_fly_zone');
    return out;
  }

  /**
   * What is left to fly to the dropoff along the routed legs the mission flies (assignment.route
   * round no-fly zones), not a straight line: both the ETA and the battery reserve depend on it.
   */
  private remainingM(a: Active, s: DroneStatus): number {
    const here = { lat: s.position!.lat, lon: s.position!.lon };
    const beforePickup = a.stage === 'Scheduled' || a.stage === 'HeadedToPickup';
    const current = s.mission.total === a.marks.total && s.mission.current >= 0 ? s.mission.current : null;
    return pathLengthM(here, remainingPath(a.assignment, here, beforePickup, current));
  }

  private eta(a: Active, s: DroneStatus): number {
    const groundS = a.stage === 'Scheduled' || a.stage === 'HeadedToPickup' ? 2 * a.assignment.groundDelayS : a.assignment.groundDelayS;
    return Math.round(s.ts + (this.remainingM(a, s) / this.o.cruiseSpeedMs + groundS) * 1000);
  }

  private checkBattery(a: Active, s: DroneStatus, emit: (type: TrackingEventType, stage: DeliveryStage, extra: Partial<TrackingDraft>) => void): void {
    if (s.battery.pct === null) return;
    const needed = (this.remainingM(a, s) / 1000) * this.o.batteryPctPerKm + this.o.batteryReservePct;
    if (s.battery.pct < needed && !a.raised.has('battery_reserve')) {
      a.raised.add('battery_reserve');
      emit('DeliveryAlert', a.stage, { alert: 'battery_reserve', reason: `battery ${s.battery.pct}% < ${needed.toFixed(0)}% needed for the remaining route` });
    } else if (s.battery.pct >= needed) a.raised.delete('battery_reserve');
  }
}

function draft(
  a: DeliveryAssignment, type: TrackingEventType, stage: DeliveryStage, ts: number, s: DroneStatus | null, eta: number | null, extra: Partial<TrackingDraft> = {},
): TrackingDraft {
  return {
    type, stage, deliveryId: a.deliveryId, droneId: a.droneId, ts,
    location: s?.position ? { lat: s.position.lat, lon: s.position.lon, altRel: s.position.altRel } : null, eta,
    ...(a.correlationId ? { correlationId: a.correlationId } : {}),
    ...extra,
  };
}
