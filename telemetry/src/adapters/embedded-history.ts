import { deliveryWindow, trackPointOf } from '../domain/history.js';
import type { FleetMember } from '../domain/history.js';
import { MEASUREMENTS } from '../domain/measurements.js';
import type { TrackPoint } from '../domain/track.js';
import type { HistoryReader } from '../ports.js';
import type { EmbeddedWriter } from './embedded-writer.js';

/** History from the embedded store: the same answers as influxql-history.ts, from SQLite. */
export function createEmbeddedHistory(store: EmbeddedWriter): HistoryReader {
  const droneTrack = (droneId: string, fromMs: number, toMs: number, limit: number): TrackPoint[] => {
    const out: TrackPoint[] = [];
    for (const p of store.query(MEASUREMENTS.status, { drone_id: droneId }, fromMs, toMs)) {
      const t = trackPointOf(p.tsMs, p.fields);
      if (t !== null) out.push(t);
      if (out.length >= limit) break;
    }
    return out;
  };
  return {
    kind: 'embedded',
    droneTrack: (droneId, fromMs, toMs, limit) => Promise.resolve(droneTrack(droneId, fromMs, toMs, limit)),
    deliveryTrack(deliveryId, nowMs, limit) {
      const events = store.query(MEASUREMENTS.delivery, { delivery_id: deliveryId }, 0, Number.MAX_SAFE_INTEGER)
        .map((p) => ({ ts: p.tsMs, stage: p.tags.stage ?? '', droneId: p.tags.drone_id ?? '' }));
      const w = deliveryWindow(events, nowMs);
      if (w === null) return Promise.resolve(null);
      return Promise.resolve({ deliveryId, ...w, points: droneTrack(w.droneId, w.fromMs, w.toMs, limit) });
    },
    fleetAt(atMs, lookbackMs) {
      const newest = new Map<string, FleetMember>();
      for (const p of store.query(MEASUREMENTS.status, {}, atMs - lookbackMs + 1, atMs)) {
        const t = trackPointOf(p.tsMs, p.fields);
        const droneId = p.tags.drone_id;
        if (t === null || droneId === undefined) continue;
        newest.set(droneId, { droneId, state: typeof p.fields.state === 'string' ? p.fields.state : 'idle', point: t });
      }
      return Promise.resolve([...newest.values()].sort((a, b) => a.droneId.localeCompare(b.droneId)));
    },
  };
}
