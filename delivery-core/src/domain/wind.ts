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
 * Ground speed along a course when the drone holds `airspeedMs` through the air and crabs into
 * the wind (the wind triangle): the crosswind is cancelled by heading into it, the rest of the
 * airspeed plus the tailwind component moves the drone along the track. Null when the crosswind
 * alone is as strong as the drone (it cannot hold the track).
 */
export function groundSpeedMs(airspeedMs: number, courseDegTrue: number, wind: Wind | undefined): number | null {
  if (!wind || wind.speedMs === 0) return airspeedMs;
  // Wind FROM fromDeg blows TOWARD fromDeg + 180.
  const rel = (wind.fromDeg + 180 - courseDegTrue) * RAD;
  const tail = wind.speedMs * Math.cos(rel);
  const cross = wind.speedMs * Math.sin(rel);
  if (Math.abs(cross) >= airspeedMs) return null;
  const gs = Math.sqrt(airspeedMs * airspeedMs - cross * cross) + tail;
  return gs > 0.5 ? gs : null;
}
