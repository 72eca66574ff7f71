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
