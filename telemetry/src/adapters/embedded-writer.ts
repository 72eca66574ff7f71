import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { seriesKey } from '../domain/point.js';
import type { FieldValue, Point } from '../domain/point.js';
import { downsample } from '../domain/downsample.js';
import type { TelemetryWriter, WriteOutcome } from '../ports.js';

// One row per (measurement, series, ts): the same key InfluxDB overwrites on, so a replayed batch
// from the spill lands on its own rows. resolution_ms is 0 for raw points, else the bucket width
// a downsampled row stands for.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS points (
  measurement   TEXT    NOT NULL,
  series        TEXT    NOT NULL,
  ts            INTEGER NOT NULL,
  tags          TEXT    NOT NULL,
  fields        TEXT    NOT NULL,
  resolution_ms INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (measurement, series, ts)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS points_by_time ON points (measurement, ts);
`;

export interface RetentionPolicy {
  /** raw points older than this are downsampled (default 24 h) */
  rawMs: number;
  /** bucket width of downsampled rows (default 60 s) */
  bucketMs: number;
  /** anything older than this is deleted (default 30 days) */
  keepMs: number;
}

export const RETENTION_DEFAULTS: RetentionPolicy = { rawMs: 24 * 3600_000, bucketMs: 60_000, keepMs: 30 * 24 * 3600_000 };

export interface StoredPoint extends Point {
  readonly resolutionMs: number;
}

export interface EmbeddedWriter extends TelemetryWriter {
  /** points of a measurement with from <= ts <= to whose tags include `tags`, oldest first */
  query(measurement: string, tags: Readonly<Record<string, string>>, fromMs: number, toMs: number, limit?: number): StoredPoint[];
  /** Downsamples and deletes per the policy, as of nowMs; returns rows removed and rows written. */
  applyRetention(nowMs: number, policy?: RetentionPolicy): { deleted: number; downsampled: number };
}

interface Row { measurement: string; ts: number; tags: string; fields: string; resolution_ms: number }

/** The embedded time-series store used when no InfluxDB is configured (README "Telemetry and Grafana"). */
export function openEmbeddedWriter(path: string): EmbeddedWriter {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(SCHEMA);
  // json_patch merges field sets the way InfluxDB does for two writes on one key.
  const upsert = db.prepare(`INSERT INTO points (measurement, series, ts, tags, fields, resolution_ms) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (measurement, series, ts) DO UPDATE SET fields = json_patch(fields, excluded.fields), resolution_ms = excluded.resolution_ms`);
  const writeAll = db.transaction((points: readonly Point[], resolution: number) => {
    for (const p of points) upsert.run(p.measurement, seriesKey(p), Math.trunc(p.tsMs), JSON.stringify(p.tags), JSON.stringify(p.fields), resolution);
  });
  const byRange = db.prepare<[string, number, number], Row>(
    'SELECT measurement, ts, tags, fields, resolution_ms FROM points WHERE measurement = ? AND ts BETWEEN ? AND ? ORDER BY ts');
  const toPoint = (r: Row): StoredPoint => ({
    measurement: r.measurement,
    tags: JSON.parse(r.tags) as Record<string, string>,
    fields: JSON.parse(r.fields) as Record<string, FieldValue>,
    tsMs: r.ts,
    resolutionMs: r.resolution_ms,
  });
  let closed = false;

  return {
    kind: 'embedded',
    write(points): Promise<WriteOutcome> {
      try {
        writeAll(points, 0);
        return Promise.resolve({ ok: true });
      } catch (err) {
        // SQLITE_BUSY/IOERR may pass; a closed store will not come back.
        return Promise.resolve({ ok: false, retryable: !closed, status: null, retryAfterMs: null, detail: err instanceof Error ? err.message : String(err) });
      }
    },
    query(measurement, tags, fromMs, toMs, limit = 100_000) {
      const out: StoredPoint[] = [];
      for (const r of byRange.iterate(measurement, fromMs, toMs)) {
        const p = toPoint(r);
        if (Object.entries(tags).every(([k, v]) => p.tags[k] === v)) out.push(p);
        if (out.length >= limit) break;
      }
      return out;
    },
    applyRetention(nowMs, policy = RETENTION_DEFAULTS) {
      return db.transaction(() => {
        const deleted = db.prepare('DELETE FROM points WHERE ts < ?').run(nowMs - policy.keepMs).changes;
        const rawCut = nowMs - policy.rawMs;
        const raw = db.prepare<[number], Row>('SELECT measurement, ts, tags, fields, resolution_ms FROM points WHERE resolution_ms = 0 AND ts < ?')
          .all(rawCut).map(toPoint);
        if (raw.length === 0) return { deleted, downsampled: 0 };
        db.prepare('DELETE FROM points WHERE resolution_ms = 0 AND ts < ?').run(rawCut);
        const rows = downsample(raw, policy.bucketMs);
        writeAll(rows, policy.bucketMs);
        return { deleted: deleted + raw.length, downsampled: rows.length };
      })();
    },
    close() {
      if (!closed) db.close();
      closed = true;
      return Promise.resolve();
    },
  };
}
