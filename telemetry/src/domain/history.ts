import type { FlightMode, LandedState } from '@aerie/contracts';
import type { FieldValue } from './point.js';
import type { TrackPoint } from './track.js';

/** A drone's position and state at an instant, as GET /api/v1/fleet answers it. */
export interface FleetMember {
  droneId: string;
  /** domain/measurements.ts droneState() */
  state: string;
  point: TrackPoint;
}

export interface DeliveryTrack {
  deliveryId: string;
  droneId: string;
  /** first event of the delivery */
  fromMs: number;
  /** its terminal event, or the query instant while it is still under way */
  toMs: number;
  stages: { stage: string; ts: number }[];
  points: TrackPoint[];
}

const num = (v: FieldValue | null | undefined): number | null => (typeof v === 'number' ? v : null);

/** A drone_status row (from either store) as the track API answers it; null without a position. */
export function trackPointOf(ts: number, f: Readonly<Record<string, FieldValue | null | undefined>>): TrackPoint | null {
  const lat = num(f.lat);
  const lon = num(f.lon);
  if (lat === null || lon === null) return null;
  return {
    ts,
    lat,
    lon,
    altMsl: num(f.alt) ?? 0,
    altRel: num(f.alt_rel) ?? 0,
    groundSpeed: num(f.speed) ?? 0,
    heading: num(f.heading) ?? 0,
    batteryPct: num(f.battery_pct),
    flightMode: (typeof f.mode === 'string' ? f.mode : 'UNKNOWN') as FlightMode,
    landedState: (typeof f.landed === 'string' ? f.landed : 'UNDEFINED') as LandedState,
    armed: f.armed === true,
  };
}

const TERMINAL = new Set(['Completed', 'Cancelled', 'Failed']);

/**
 * Which drone flew a delivery and when, from its delivery_event rows: from the first event to the
 * terminal one (or `nowMs` while under way). The drone is the one named by the newest event, as a
 * delivery reassigned after a refusal is flown by its last drone.
 */
export function deliveryWindow(events: readonly { ts: number; stage: string; droneId: string }[], nowMs: number):
  { droneId: string; fromMs: number; toMs: number; stages: { stage: string; ts: number }[] } | null {
  if (events.length === 0) return null;
  const sorted = [...events].sort((a, b) => a.ts - b.ts);
  const last = sorted.at(-1)!;
  return {
    droneId: last.droneId,
    fromMs: sorted[0]!.ts,
    toMs: TERMINAL.has(last.stage) ? last.ts : Math.max(nowMs, last.ts),
    stages: sorted.map((e) => ({ stage: e.stage, ts: e.ts })),
  };
}
