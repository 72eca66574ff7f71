import type { DroneStatus, FlightMode, LandedState } from '@aerie/contracts';

/** One positioned sample of a drone's history, as the track and latest APIs answer it. */
export interface TrackPoint {
  /** Unix epoch milliseconds, the drone's own DroneStatus.ts */
  ts: number;
  /** WGS84 degrees */
  lat: number;
  lon: number;
  /** metres above mean sea level */
  altMsl: number;
  /** metres above home */
  altRel: number;
  /** m/s */
  groundSpeed: number;
  /** degrees, 0–360 */
  heading: number;
  /** null when the autopilot does not estimate remaining capacity (BATTERY_STATUS.battery_remaining = -1) */
  batteryPct: number | null;
  flightMode: FlightMode;
  landedState: LandedState;
  armed: boolean;
}

/** Identity of a status: the contract makes (bootId, seq) unique per drone, so replays are duplicates. */
export function statusKey(status: Pick<DroneStatus, 'droneId' | 'bootId' | 'seq'>): string {
  // NUL cannot occur in a DroneId (pattern-restricted), so the join is unambiguous for the drone part.
  return `${status.droneId}\u0000${status.bootId}\u0000${status.seq}`;
}

/** The track projection of a status; null when the drone had no position fix to report. */
export function toTrackPoint(status: DroneStatus): TrackPoint | null {
  const p = status.position;
  if (p === null) return null;
  return {
    ts: status.ts,
    lat: p.lat,
    lon: p.lon,
    altMsl: p.altMsl,
    altRel: p.altRel,
    groundSpeed: status.groundSpeed,
    heading: status.heading,
    batteryPct: status.battery.pct,
    // The schema admits only FLIGHT_MODES / LANDED_STATES; the TypeBox static type of a union
    // built with .map() widens to string, so the narrowing is restated here.
    flightMode: status.flightMode as FlightMode,
    landedState: status.landedState as LandedState,
    armed: status.armed,
  };
}
