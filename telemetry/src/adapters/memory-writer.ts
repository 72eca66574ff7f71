import { seriesKey } from '../domain/point.js';
import type { Point } from '../domain/point.js';
import type { TelemetryWriter, WriteOutcome } from '../ports.js';

export interface MemoryWriter extends TelemetryWriter {
  /** stored points, one per (series, timestamp), in write order */
  points(): Point[];
  /** Answers the next writes with these outcomes instead of storing (tests of the buffered writer). */
  failNext(...outcomes: WriteOutcome[]): void;
  /** writes attempted, failed ones included */
  readonly attempts: number;
}

/** The in-memory twin of the database writers: the same overwrite-on-same-key rule as InfluxDB. */
export function createMemoryWriter(): MemoryWriter {
  const rows = new Map<string, Point>();
  const scripted: WriteOutcome[] = [];
  let attempts = 0;
  return {
    kind: 'memory',
    get attempts() {
      return attempts;
    },
    write(points) {
      attempts++;
      const next = scripted.shift();
      if (next !== undefined && !next.ok) return Promise.resolve(next);
      for (const p of points) {
        const key = `${seriesKey(p)} ${p.tsMs}`;
        const prev = rows.get(key);
        // InfluxDB merges the field sets of two writes on one key; the newer value of a field wins.
        rows.set(key, prev ? { ...p, fields: { ...prev.fields, ...p.fields } } : p);
      }
      return Promise.resolve({ ok: true });
    },
    points: () => [...rows.values()],
    failNext: (...o) => void scripted.push(...o),
    async close() {},
  };
}
