import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { CoreSnapshot, StatusId } from './accounting.js';

/**
 * Where bench:faults reads its books from: the agents' publish journals, InfluxDB (InfluxQL over
 * /query) and delivery-core's PostgreSQL (read-only SQL on its tables).
 */

export interface JournalRead {
  entries: StatusId[];
  files: number;
  /** Lines that did not parse: a torn last line is tolerated (and counted), never fatal. */
  unreadable: number;
}

/** Every journal file in `dir` (or the files given), line by line. */
export function readJournals(dirOrFiles: string | readonly string[]): JournalRead {
  const files = typeof dirOrFiles === 'string'
    ? (existsSync(dirOrFiles) ? readdirSync(dirOrFiles).map((f) => join(dirOrFiles, f)).filter((f) => statSync(f).isFile()) : [])
    : dirOrFiles;
  const entries: StatusId[] = [];
  let unreadable = 0;
  for (const f of files) {
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      if (line === '') continue;
      try {
        const e = JSON.parse(line) as Partial<StatusId>;
        if (typeof e.droneId === 'string' && typeof e.bootId === 'string' && Number.isInteger(e.seq) && typeof e.ts === 'number') {
          entries.push({ droneId: e.droneId, bootId: e.bootId, seq: e.seq!, ts: e.ts });
        } else unreadable += 1;
      } catch {
        unreadable += 1;
      }
    }
  }
  return { entries, files: files.length, unreadable };
}

interface InfluxAnswer { error?: string; results?: { error?: string; series?: { columns: string[]; values: unknown[][] }[] }[] }

const quote = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/**
 * drone_status ids of each drone, every stored point (`page` rows a query). InfluxDB may cap a
 * query's rows (`max-row-limit`) or cut the answer into chunks, so the points are read in pages by
 * time — within a series a timestamp is unique — until a page comes back empty, whatever the
 * server's limits.
 */
export async function readStoredStatuses(influx: { url: string; db: string }, droneIds: readonly string[], page = 10_000): Promise<StatusId[]> {
  const out: StatusId[] = [];
  for (const droneId of droneIds) {
    let after = -1;
    for (;;) {
      const q = `SELECT seq, boot_id FROM drone_status WHERE drone_id = ${quote(droneId)} AND time > ${after}ms ORDER BY time ASC LIMIT ${page}`;
      const res = await fetch(`${influx.url}/query?${new URLSearchParams({ db: influx.db, q, epoch: 'ms' }).toString()}`);
      const body = (await res.json()) as InfluxAnswer;
      const err = body.error ?? body.results?.[0]?.error;
      if (!res.ok || err) throw new Error(`InfluxDB /query ${res.status}: ${err ?? ''} (${q})`);
      const series = body.results?.[0]?.series?.[0];
      const rows = series?.values ?? [];
      if (rows.length === 0) break;
      const [iTime, iSeq, iBoot] = ['time', 'seq', 'boot_id'].map((c) => series!.columns.indexOf(c));
      for (const r of rows) {
        const ts = Number(r[iTime!]);
        // A point without the ids (written before they existed) is still a point: it shows up as an unknown id.
        const bootId = r[iBoot!];
        out.push({ droneId, bootId: typeof bootId === 'string' ? bootId : '', seq: Number(r[iSeq!] ?? -1), ts });
        after = ts;
      }
    }
  }
  return out;
}

/** delivery-core's deliveries, stage history and drone reservations, read in one read-only transaction (one snapshot). */
export async function readCoreSnapshot(databaseUrl: string): Promise<CoreSnapshot> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const deliveries = await client.query<{ id: string; stage: string; drone_id: string | null }>('SELECT id, stage, drone_id FROM deliveries');
    const history = await client.query<{ delivery_id: string; stage: string; at: string; seq: string }>('SELECT delivery_id, stage, at, seq FROM stage_history ORDER BY seq');
    const reservations = await client.query<{ drone_id: string; holder: string }>('SELECT drone_id, holder FROM drone_reservations');
    await client.query('COMMIT');
    return {
      deliveries: deliveries.rows.map((r) => ({ id: r.id, stage: r.stage, droneId: r.drone_id })),
      history: history.rows.map((r) => ({ deliveryId: r.delivery_id, stage: r.stage, at: Number(r.at), seq: Number(r.seq) })),
      reservations: reservations.rows.map((r) => ({ droneId: r.drone_id, holder: r.holder })),
    };
  } finally {
    await client.end();
  }
}
