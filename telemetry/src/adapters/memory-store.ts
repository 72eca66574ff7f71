import type { DroneStatus } from '@aerie/contracts';
import { TelemetryError } from '../errors.js';
import { statusKey, toTrackPoint } from '../domain/track.js';
import type { TrackPoint } from '../domain/track.js';
import type { AppendResult, TelemetryStore } from '../ports.js';

interface Row {
  bootId: string;
  seq: number;
  point: TrackPoint;
}

/** The TelemetryStore contract without a disk: for tests and throwaway demos. */
export function createMemoryStore(): TelemetryStore {
  const seen = new Set<string>();
  const tracks = new Map<string, Row[]>();
  let closed = false;

  const open = (): void => {
    if (closed) throw new TelemetryError('TEL_ERR_STORE_CLOSED', 'the in-memory telemetry store is closed');
  };

  return {
    append(points: readonly DroneStatus[]): AppendResult {
      open();
      let inserted = 0;
      for (const s of points) {
        const key = statusKey(s);
        if (seen.has(key)) continue;
        seen.add(key);
        inserted += 1;
        const point = toTrackPoint(s);
        if (point === null) continue;
        let rows = tracks.get(s.droneId);
        if (rows === undefined) tracks.set(s.droneId, (rows = []));
        rows.push({ bootId: s.bootId, seq: s.seq, point: { ...point } });
      }
      return { inserted, duplicates: points.length - inserted };
    },

    track(droneId, fromMs, toMs, limit) {
      open();
      return (tracks.get(droneId) ?? [])
        .filter((r) => r.point.ts >= fromMs && r.point.ts <= toMs)
        .sort(byTime)
        .slice(0, Math.max(0, limit))
        .map((r) => ({ ...r.point }));
    },

    latest(droneId) {
      open();
      const rows = tracks.get(droneId) ?? [];
      let best: Row | undefined;
      for (const r of rows) if (best === undefined || byTime(r, best) > 0) best = r;
      return best === undefined ? null : { ...best.point };
    },

    close() {
      closed = true;
    },
  };
}

/**
 * The SQLite adapter's ORDER BY ts, boot_id, seq. UTF-16 code-unit order equals SQLite's BINARY
 * (UTF-8 byte) collation except between astral-plane and U+E000–U+FFFF characters in a bootId.
 */
function byTime(a: Row, b: Row): number {
  if (a.point.ts !== b.point.ts) return a.point.ts - b.point.ts;
  if (a.bootId !== b.bootId) return a.bootId < b.bootId ? -1 : 1;
  return a.seq - b.seq;
}
