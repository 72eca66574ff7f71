import type { TelemetryErrorCode } from '../errors.js';
import { parseInstant } from './time.js';

/** Defaults and bounds of the track API, shared with the HTTP schema so the two cannot drift. */
export const TRACK_QUERY = {
  /** window when `from` is absent: the last hour before `to` */
  defaultWindowMs: 3_600_000,
  defaultLimit: 5_000,
  /** about 2.8 h at 5 Hz; bounds one answer's size (~6 MB of JSON) */
  maxLimit: 50_000,
} as const;

export interface TrackQueryInput {
  from?: string | undefined;
  to?: string | undefined;
  limit?: number | undefined;
}

export interface TrackQuery {
  /** inclusive, epoch ms */
  from: number;
  /** inclusive, epoch ms */
  to: number;
  limit: number;
}

export type TrackQueryResult =
  | ({ ok: true } & TrackQuery)
  | { ok: false; code: Extract<TelemetryErrorCode, 'TEL_ERR_BAD_TIME' | 'TEL_ERR_BAD_RANGE' | 'TEL_ERR_BAD_LIMIT'>; detail: string };

export function resolveTrackQuery(input: TrackQueryInput, nowMs: number): TrackQueryResult {
  let to = nowMs;
  if (input.to !== undefined) {
    const t = parseInstant(input.to);
    if (t === null) return badTime('to', input.to);
    to = t;
  }
  let from = Math.max(0, to - TRACK_QUERY.defaultWindowMs);
  if (input.from !== undefined) {
    const f = parseInstant(input.from);
    if (f === null) return badTime('from', input.from);
    from = f;
  }
  if (from > to) {
    return { ok: false, code: 'TEL_ERR_BAD_RANGE', detail: `from (${new Date(from).toISOString()}) is after to (${new Date(to).toISOString()})` };
  }
  const limit = input.limit ?? TRACK_QUERY.defaultLimit;
  if (!Number.isInteger(limit) || limit < 1 || limit > TRACK_QUERY.maxLimit) {
    return { ok: false, code: 'TEL_ERR_BAD_LIMIT', detail: `limit must be an integer from 1 to ${TRACK_QUERY.maxLimit}` };
  }
  return { ok: true, from, to, limit };
}

function badTime(name: string, value: string): TrackQueryResult {
  const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
  return {
    ok: false,
    code: 'TEL_ERR_BAD_TIME',
    detail: `${name}=${JSON.stringify(shown)} is neither epoch milliseconds nor an ISO 8601 date or date-time with an offset`,
  };
}
