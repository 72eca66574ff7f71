import { booleanPointInPolygon, circle, point } from '@turf/turf';
import type { Feature, Polygon } from 'geojson';
import type { DeliveryAssignment, DeliveryStage, DeliveryTracking, DroneStatus, TrackingEventType } from '@aerie/contracts';

type ActiveStage = Extract<DeliveryStage, 'Scheduled' | 'HeadedToPickup' | 'PickedUp' | 'HeadedToDropoff'>;

interface Active {
  assignment: DeliveryAssignment;
  stage: ActiveStage;
  pickupFence: Feature<Polygon>;
  dropoffFence: Feature<Polygon>;
}

export type TrackingDraft = Omit<DeliveryTracking, 'v' | 'eventId'>;

const IN_AIR = new Set<DroneStatus['landedState']>(['IN_AIR', 'TAKEOFF', 'LANDING']);

/**
 * Turns DroneStatus into delivery stages with geofences around pickup and dropoff:
 * airborne → HeadedToPickup; landed inside the pickup fence → PickedUp; airborne again →
 * HeadedToDropoff; landed inside the dropoff fence → Completed. Pure: no I/O, time comes in.
 */
export class DeliveryTracker {
  private readonly byDrone = new Map<string, Active>();

  constructor(private readonly fenceRadiusM: number) {}

  assign(a: DeliveryAssignment): void {
    const fence = (p: { lat: number; lon: number }) => circle([p.lon, p.lat], this.fenceRadiusM / 1000, { steps: 32, units: 'kilometers' });
    this.byDrone.set(a.droneId, { assignment: a, stage: 'Scheduled', pickupFence: fence(a.pickup), dropoffFence: fence(a.dropoff) });
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

  activeFor(droneId: string): DeliveryAssignment | null {
    return this.byDrone.get(droneId)?.assignment ?? null;
  }

  get activeCount(): number {
    return this.byDrone.size;
  }

  onStatus(s: DroneStatus): TrackingDraft[] {
    const active = this.byDrone.get(s.droneId);
    if (!active || !s.position) return [];
    const airborne = IN_AIR.has(s.landedState);
    const landed = s.landedState === 'ON_GROUND';
    const here = point([s.position.lon, s.position.lat]);
    const out: TrackingDraft[] = [];
    const advance = (stage: DeliveryStage, type: TrackingEventType) => {
      out.push({
        type, stage, deliveryId: active.assignment.deliveryId, droneId: s.droneId, ts: s.ts,
        location: { lat: s.position!.lat, lon: s.position!.lon, altRel: s.position!.altRel }, eta: null,
        ...(active.assignment.correlationId ? { correlationId: active.assignment.correlationId } : {}),
      });
    };
    switch (active.stage) {
      case 'Scheduled':
        if (airborne) {
          active.stage = 'HeadedToPickup';
          advance('HeadedToPickup', 'DeliveryHeadedToPickup');
        }
        break;
      case 'HeadedToPickup':
        if (landed && booleanPointInPolygon(here, active.pickupFence)) {
          active.stage = 'PickedUp';
          advance('PickedUp', 'PackagePickedUp');
        }
        break;
      case 'PickedUp':
        if (airborne) {
          active.stage = 'HeadedToDropoff';
          advance('HeadedToDropoff', 'DeliveryHeadedToDropoff');
        }
        break;
      case 'HeadedToDropoff':
        if (landed && booleanPointInPolygon(here, active.dropoffFence)) {
          this.byDrone.delete(s.droneId);
          advance('Completed', 'DeliveryCompleted');
        }
        break;
    }
    return out;
  }
}
