import { deliveryWindow, trackPointOf } from '../domain/history.js';
import type { FleetMember } from '../domain/history.js';
import { MEASUREMENTS } from '../domain/measurements.js';
import type { FieldValue } from '../domain/point.js';
import { TelemetryError } from '../errors.js';
import type { HistoryReader } from '../ports.js';

export interface InfluxqlHistoryOptions {
  /** InfluxDB 1.x, or 2.x/3.x through their v1-compatible /query with a DBRP mapping */
  url: string;
  database: string;
  retentionPolicy?: string | undefined;
  username?: string | undefined;
  password?: string | undefined;
  /** 2.x/3.x token, sent as `Authorization: Token …` instead of Basic */
  token?: string | undefined;
}

interface Series { name: string; tags?: Record<string, string>; columns: string[]; values: (FieldValue | number | null)[][] }

// InfluxQL string literals are single-quoted with backslash escapes (InfluxQL spec, "Strings").
const lit = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const TRACK_FIELDS = '"lat","lon","alt","alt_rel","speed","heading","battery_pct","mode","landed","armed","state"';

/** History over InfluxQL `/query` with epoch=ms; the same answers as embedded-history.ts. */
export function createInfluxqlHistory(o: InfluxqlHistoryOptions): HistoryReader {
  const headers: Record<string, string> = {};
  if (o.token !== undefined) headers.authorization = `Token ${o.token}`;
  else if (o.username !== undefined) headers.authorization = `Basic ${Buffer.from(`${o.username}:${o.password ?? ''}`).toString('base64')}`;
  const from = `${o.retentionPolicy ? `"${o.retentionPolicy}".` : ''}`;

  async function query(q: string): Promise<Series[]> {
    const params = new URLSearchParams({ db: o.database, q, epoch: 'ms' });
    if (o.retentionPolicy) params.set('rp', o.retentionPolicy);
    const res = await fetch(`${o.url.replace(/\/$/, '')}/query`, { method: 'POST', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, body: params.toString() });
    const body = (await res.json().catch(() => ({}))) as { error?: string; results?: { error?: string; series?: Series[] }[] };
    const err = body.error ?? body.results?.[0]?.error;
    // The database's words go to the log through the HTTP error handler, never to the client.
    if (!res.ok || err !== undefined) throw new TelemetryError('TEL_ERR_INTERNAL', `InfluxQL query failed (${res.status}): ${err ?? ''}`);
    return body.results?.[0]?.series ?? [];
  }
  const rows = (s: Series): Record<string, FieldValue | null>[] =>
    s.values.map((r) => Object.fromEntries(s.columns.map((c, i) => [c, r[i] ?? null])) as Record<string, FieldValue | null>);

  async function droneTrack(droneId: string, fromMs: number, toMs: number, limit: number) {
    const series = await query(`SELECT ${TRACK_FIELDS} FROM ${from}"${MEASUREMENTS.status}" WHERE "drone_id" = ${lit(droneId)} AND time >= ${fromMs}ms AND time <= ${toMs}ms ORDER BY time ASC LIMIT ${limit}`);
    return series.flatMap(rows).flatMap((r) => {
      const t = trackPointOf(r.time as number, r);
      return t === null ? [] : [t];
    });
  }

  return {
    kind: 'influxql',
    droneTrack,
    async deliveryTrack(deliveryId, nowMs, limit) {
      const series = await query(`SELECT "stage_s" FROM ${from}"${MEASUREMENTS.delivery}" WHERE "delivery_id" = ${lit(deliveryId)} GROUP BY "drone_id", "stage"`);
      const events = series.flatMap((s) => rows(s).map((r) => ({ ts: r.time as number, stage: s.tags?.stage ?? '', droneId: s.tags?.drone_id ?? '' })));
      const w = deliveryWindow(events, nowMs);
      if (w === null) return null;
      return { deliveryId, ...w, points: await droneTrack(w.droneId, w.fromMs, w.toMs, limit) };
    },
    async fleetAt(atMs, lookbackMs) {
      // ORDER BY time DESC LIMIT 1 per series returns whole rows; last() per field could mix rows.
      const series = await query(`SELECT ${TRACK_FIELDS} FROM ${from}"${MEASUREMENTS.status}" WHERE time > ${atMs - lookbackMs}ms AND time <= ${atMs}ms AND "lat" > -91 GROUP BY "drone_id" ORDER BY time DESC LIMIT 1`);
      const out: FleetMember[] = [];
      for (const s of series) {
        const r = rows(s)[0];
        const droneId = s.tags?.drone_id;
        if (r === undefined || droneId === undefined) continue;
        const t = trackPointOf(r.time as number, r);
        if (t !== null) out.push({ droneId, state: typeof r.state === 'string' ? r.state : 'idle', point: t });
      }
      return out.sort((a, b) => a.droneId.localeCompare(b.droneId));
    },
  };
}
