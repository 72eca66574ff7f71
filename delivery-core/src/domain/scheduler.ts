import type { LatLon } from '@aerie/contracts';
import { remainingSeconds, type FlightProfile } from './eta.js';
import { Batch, planBatch, type EnergyModel, type Explanation, type PlanDrone, type PlanJob } from './planner.js';
import { NoFlyRouter, type ZoneFeature } from './routing.js';
import { TentativePlan } from './assignment.js';

export interface SchedulerSettings {
  profile: FlightProfile;
  energy: EnergyModel;
  /** No-fly zones (GeoJSON polygons) and the margin kept from them (m). */
  noFlyZones: readonly ZoneFeature[];
  noFlyMarginM: number;
  /** Re-optimisation: how long an assignment stays tentative (ms), and what a change must save (s). */
  holdMs: number;
  switchPenaltyS: number;
}

/** An explanation as served: the pass's reasoning and whether the pair is still tentative. */
export interface AssignmentView extends Explanation {
  at: number;
  state: 'tentative' | 'committed' | 'unassigned';
  /** Tentative until its pickup window: when the drone would have to leave (epoch ms). */
  launchAt?: number;
}

/**
 * A drone may wait this long on the ground at the pickup for the window to open (s). A pair that
 * would wait longer is not committed yet: it stays tentative, re-optimised every pass, until
 * its launch time comes (the hub sends the mission down, and the drone takes off, on dispatch).
 */
export const LAUNCH_SLACK_S = 30;

const MAX_EXPLANATIONS = 10_000;

/**
 * The scheduling half of the service, pure: each pass plans the pending deliveries × the
 * available drones optimally, holds new pairs tentatively and re-optimises them on the next
 * passes (with hysteresis) — for `holdMs`, and for a pickup window that opens later, until the
 * drone has to leave — and answers which pairs to commit; it keeps the latest explanation
 * of each delivery (bounded) for GET /api/v1/deliveries/{id}/assignment.
 */
export class Scheduler {
  readonly router: NoFlyRouter | null;
  readonly tentative = new TentativePlan();
  private readonly explained = new Map<string, AssignmentView>();

  constructor(private readonly s: SchedulerSettings, origin: LatLon | null = null) {
    const zones = s.noFlyZones;
    const first = zones[0]?.geometry;
    const o = origin ?? (first ? firstPoint(first) : null);
    this.router = zones.length > 0 && o ? new NoFlyRouter(zones, s.noFlyMarginM, o, new Batch(s.profile, s.energy, o).segmentS) : null;
  }

  /** One pass: the pairs to commit now (jobId → droneId). */
  pass(drones: readonly PlanDrone[], jobs: readonly PlanJob[], now: number): Map<string, string> {
    const plan = planBatch(this.s.profile, this.s.energy, drones, jobs, now, {
      ...(this.router ? { router: this.router } : {}), incumbent: this.tentative.incumbent(), switchPenaltyS: this.s.switchPenaltyS,
    });
    const commit = this.tentative.update(plan.assignments, jobs.map((j) => j.id), now, this.s.holdMs);
    for (const e of plan.explanations) {
      // "Committed" is the dispatch (fleet-hub starts the mission at once): a pair whose drone
      // would only wait at the pickup is held back and re-optimised until it has to leave.
      const waitS = e.breakdown?.waitS ?? 0;
      const early = waitS > LAUNCH_SLACK_S;
      if (early) commit.delete(e.jobId);
      this.explained.delete(e.jobId);
      this.explained.set(e.jobId, {
        ...e, at: now, state: e.droneId === null ? 'unassigned' : commit.has(e.jobId) ? 'committed' : 'tentative',
        ...(early ? { launchAt: now + Math.ceil((waitS - LAUNCH_SLACK_S) * 1000) } : {}),
      });
    }
    // Bounded: the most recent explanations only (a Map iterates oldest insertion first).
    for (const k of this.explained.keys()) {
      if (this.explained.size <= MAX_EXPLANATIONS) break;
      this.explained.delete(k);
    }
    return commit;
  }

  /** The commit went through (or failed for good): the pair is no longer the scheduler's to move. */
  committed(jobId: string): void {
    this.tentative.forget(jobId);
  }

  explanation(jobId: string): AssignmentView | null {
    return this.explained.get(jobId) ?? null;
  }

  get explanations(): ReadonlyMap<string, AssignmentView> {
    return this.explained;
  }

  /**
   * Seconds from now until the package is at the dropoff, for a drone at `from` not yet flying:
   * the flight model's time (domain/eta.ts) plus what the detours round no-fly zones add.
   */
  dispatchEtaS(from: LatLon, pickup: LatLon, dropoff: LatLon): number {
    const base = remainingSeconds(this.s.profile, 'Scheduled', from, pickup, dropoff);
    if (!this.router) return base;
    const straight = new Batch(this.s.profile, this.s.energy, pickup);
    const routed = new Batch(this.s.profile, this.s.energy, pickup, this.router);
    const a = new Float64Array(2);
    const b = new Float64Array(2);
    let extra = 0;
    for (const [p, q] of [[from, pickup], [pickup, dropoff]] as const) {
      straight.leg(p, q, a);
      routed.leg(p, q, b);
      if (Number.isFinite(b[0]!)) extra += Math.max(0, b[0]! - a[0]!);
    }
    return base + extra;
  }

  /**
   * The waypoints the drone must fly so that the mission follows the legs the plan was costed
   * on (from its place to the pickup, on to the dropoff, and home), or null without zones. A
   * leg the router finds no way for stays straight: the planner never commits such a pair.
   */
  dispatchRoute(from: LatLon, pickup: LatLon, dropoff: LatLon, home: LatLon): DispatchRoute | null {
    if (!this.router || this.router.empty) return null;
    return { toPickup: via(this.router, from, pickup), toDropoff: via(this.router, pickup, dropoff), toHome: via(this.router, dropoff, home) };
  }
}

/** Intermediate waypoints of each leg round the no-fly zones (ends excluded), as DeliveryAssignment.route carries them. */
export interface DispatchRoute {
  toPickup: LatLon[];
  toDropoff: LatLon[];
  toHome: LatLon[];
}

/** The router's fastest path a → b without its ends; a straight (or unroutable) leg has none. */
function via(router: NoFlyRouter, a: LatLon, b: LatLon): LatLon[] {
  const path = router.path(a, b);
  return path ? path.slice(1, -1) : [];
}

function firstPoint(g: ZoneFeature['geometry']): LatLon {
  const c = g.type === 'Polygon' ? g.coordinates[0]![0]! : g.coordinates[0]![0]![0]!;
  return { lon: c[0]!, lat: c[1]! };
}
