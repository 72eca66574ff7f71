import { seriesKey } from './point.js';
import type { FieldValue, Point } from './point.js';

/**
 * One point per series per bucket: numeric fields averaged (the same as InfluxQL's
 * `SELECT mean(*) … GROUP BY time(bucket), *` that a continuous query would run), other fields
 * keep their last value. The bucket's start is its timestamp, as InfluxQL labels it.
 */
export function downsample(points: readonly Point[], bucketMs: number): Point[] {
  const groups = new Map<string, Point[]>();
  for (const p of points) {
    const start = Math.floor(p.tsMs / bucketMs) * bucketMs;
    const key = `${seriesKey(p)} ${start}`;
    const g = groups.get(key);
    if (g) g.push(p);
    else groups.set(key, [p]);
  }
  const out: Point[] = [];
  for (const g of groups.values()) {
    const sorted = [...g].sort((a, b) => a.tsMs - b.tsMs);
    const first = sorted[0]!;
    const sums = new Map<string, { sum: number; n: number }>();
    const last: Record<string, FieldValue> = {};
    for (const p of sorted) {
      for (const [k, v] of Object.entries(p.fields)) {
        if (typeof v === 'number') {
          const s = sums.get(k) ?? { sum: 0, n: 0 };
          s.sum += v;
          s.n += 1;
          sums.set(k, s);
        } else {
          last[k] = v;
        }
      }
    }
    const fields: Record<string, FieldValue> = { ...last };
    for (const [k, s] of sums) fields[k] = s.sum / s.n;
    out.push({ measurement: first.measurement, tags: first.tags, fields, tsMs: Math.floor(first.tsMs / bucketMs) * bucketMs });
  }
  return out;
}
