import type { LatLon } from '@aerie/contracts';

/** Wind as a forecast or an observation gives it: speed, and the direction it blows FROM (° true). */
export interface Wind {
  speedMs: number;
  fromDeg: number;
}

const RAD = Math.PI / 180;

/** Initial great-circle course from a to b, degrees true. */
export function courseDeg(a: LatLon, b: LatLon): number {
  const φ1 = a.lat * RAD;
  const φ2 = b.lat * RAD;
  const Δλ = (b.lon - a.lon) * RAD;
  const y = Math.sin(Δλ) * Math.cos(φ2);
  const x = Math.cos(φ1) * Math.sin(φ2) - Math.sin(φ1) * Math.cos(φ2) * Math.cos(Δλ);
  return (Math.atan2(y, x) / RAD + 360) % 360;
}

/**
 * Ground speed along a course. Two autopilot behaviours:
 * - airspeed hold (no `maxAirspeedMs`): the drone flies `speedMs` through the air and crabs into
 *   the wind (the wind triangle) — ground speed = √(V² − crosswind²) + tailwind;
 * - ground-speed target (`maxAirspeedMs` set; ArduCopter WPNAV_SPEED, PX4 MPC_XY_CRUISE): the
 *   drone holds `speedMs` over the ground unless that needs more than its maximum airspeed,
 *   when the wind triangle at the maximum airspeed limits it.
 * Null when the crosswind alone is as strong as the drone (it cannot hold the track).
 */
export function groundSpeedMs(speedMs: number, courseDegTrue: number, wind: Wind | undefined, maxAirspeedMs?: number): number | null {
  if (!wind || wind.speedMs === 0) return speedMs;
  // Wind FROM fromDeg blows TOWARD fromDeg + 180.
  const rel = (wind.fromDeg + 180 - courseDegTrue) * RAD;
  return groundSpeedFromComponents(speedMs, wind.speedMs * Math.cos(rel), wind.speedMs * Math.sin(rel), maxAirspeedMs);
}

/** The same from the tail and cross components of the wind along the track (m/s). */
export function groundSpeedFromComponents(speedMs: number, tail: number, cross: number, maxAirspeedMs?: number): number | null {
  const limit = maxAirspeedMs ?? speedMs;
  if (Math.abs(cross) >= limit) return null;
  const capped = Math.sqrt(limit * limit - cross * cross) + tail;
  const gs = maxAirspeedMs === undefined ? capped : Math.min(speedMs, capped);
  return gs > 0.5 ? gs : null;
}
