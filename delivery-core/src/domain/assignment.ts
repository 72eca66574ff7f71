import { haversineM, type DroneStatus, type LatLon } from '@aerie/contracts';

export interface AssignmentPolicy {
  /** A drone below this battery level is not sent (%). */
  minBatteryPct: number;
  /** A status older than this says nothing about the drone now (ms). */
  maxStatusAgeMs: number;
}

/**
 * Whether a drone can be given a delivery now: on the ground, disarmed, linked to its flight
 * controller, with a fresh status, a 3D GPS fix and enough battery.
 */
export function isAvailable(s: DroneStatus, now: number, policy: AssignmentPolicy): s is DroneStatus & { position: NonNullable<DroneStatus['position']> } {
  if (!s.position || s.armed || s.landedState !== 'ON_GROUND') return false;
  if (!s.link.fcConnected || now - s.ts > policy.maxStatusAgeMs) return false;
  if (s.battery.pct === null || s.battery.pct < policy.minBatteryPct) return false;
  // GPS_FIX_TYPE_3D_FIX: without it the autopilot refuses to arm for an auto mission.
  return s.gps.fix >= 3;
}

/**
 * Picks the idle drone nearest the pickup: on the ground, disarmed, linked to its flight
 * controller, with a fresh status, a 3D GPS fix, enough battery, and not already flying a delivery.
 */
export function pickDrone(
  candidates: Iterable<DroneStatus>, busy: ReadonlySet<string>, pickup: LatLon, now: number, policy: AssignmentPolicy,
): DroneStatus | null {
  let best: DroneStatus | null = null;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const s of candidates) {
    if (busy.has(s.droneId) || !s.position || s.armed || s.landedState !== 'ON_GROUND') continue;
    if (!s.link.fcConnected || now - s.ts > policy.maxStatusAgeMs) continue;
    if (s.battery.pct === null || s.battery.pct < policy.minBatteryPct) continue;
    // GPS_FIX_TYPE_3D_FIX: without it the autopilot refuses to arm for an auto mission.
    if (s.gps.fix < 3) continue;
    const d = haversineM(s.position, pickup);
    if (d < bestDistance) {
      best = s;
      bestDistance = d;
    }
  }
  return best;
}

/**
 * The scheduler's tentative assignments between passes: a drone assigned to a delivery is not
 * committed (reserved, dispatched) until the pair has stood for `holdMs` of passes. Until then
 * each pass re-optimises it with the rest of the batch — a better drone freed up, a request
 * that fits this drone better arrived — and the planner's switch penalty (PlanOptions) keeps it
 * from flapping between near-equal drones.
 */
export class TentativePlan {
  private readonly held = new Map<string, { droneId: string; since: number }>();
  /** Assignments changed after a first one (a measure of flapping). */
  switches = 0;

  incumbent(): ReadonlyMap<string, string> {
    return new Map([...this.held].map(([job, h]) => [job, h.droneId]));
  }

  /**
   * Takes one pass's optimal plan over the `pending` jobs and answers the pairs to commit now:
   * those the plan has kept for at least `holdMs`. Jobs no longer pending are forgotten.
   */
  update(plan: ReadonlyMap<string, string>, pending: Iterable<string>, now: number, holdMs: number): Map<string, string> {
    const still = new Set(pending);
    for (const job of this.held.keys()) if (!still.has(job) || !plan.has(job)) this.held.delete(job);
    const commit = new Map<string, string>();
    for (const [job, droneId] of plan) {
      if (!still.has(job)) continue;
      const h = this.held.get(job);
      if (!h || h.droneId !== droneId) {
        if (h) this.switches += 1;
        this.held.set(job, { droneId, since: now });
      }
      if (now - this.held.get(job)!.since >= holdMs) commit.set(job, droneId);
    }
    return commit;
  }

  /** Held since (epoch ms) for this job and drone, or null when it is not held. */
  heldSince(job: string): { droneId: string; since: number } | null {
    return this.held.get(job) ?? null;
  }

  forget(job: string): void {
    this.held.delete(job);
  }
}
