import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInfluxV1Writer } from '../../telemetry/src/adapters/influx-v1-writer.js';
import { statusPoint } from '../../telemetry/src/domain/measurements.js';
import { makeStatus } from '../../telemetry/test/helpers/status.js';
import { openPostgres } from '../../delivery-core/src/adapters/sql/postgres.js';
import { migrateToLatest } from '../../delivery-core/src/adapters/sql/migrations.js';
import { migrateWorkflow } from '../../delivery-core/src/adapters/outbox-schema.js';
import { influxQuery, startInfluxDB, type RunningInfluxDB } from '../../test-support/influxdb.js';
import { startPostgres, type RunningPostgres } from '../../test-support/postgres.js';
import { account, type Accounting, type StatusId } from '../src/accounting.js';
import { readCoreSnapshot, readJournals, readStoredStatuses } from '../src/accounting-sources.js';

/*
 * bench:faults' books against the real stores: journals on disk, drone_status points written by
 * telemetry's own writer into Debian's InfluxDB, delivery-core's schema (its own migrations) on
 * Debian's PostgreSQL. A clean world balances to zeros; then each figure is driven wrong in turn
 * and the accounting must see it.
 */

let influx: RunningInfluxDB;
let postgres: RunningPostgres;
const dir = mkdtempSync(join(tmpdir(), 'aerie-accounting-'));
beforeAll(async () => {
  [influx, postgres] = await Promise.all([startInfluxDB(), startPostgres()]);
}, 60_000);
afterAll(async () => {
  await Promise.all([influx?.destroy(), postgres?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

interface Row { id: string; stage: string; droneId: string | null; history: [string, number][] }
interface World { journal: Record<string, StatusId[]>; stored: StatusId[]; deliveries: Row[]; reservations: [string, string][]; accepted: string[] }

const T0 = 1_764_720_000_000;
const status = (droneId: string, bootId: string, seq: number): StatusId => ({ droneId, bootId, seq, ts: T0 + seq * 200 + (bootId === 'b2' ? 100_000 : 0) });

/** Two drones, two boots of one of them, three deliveries flown one after another on drone-a and one on drone-b. */
function cleanWorld(): World {
  const a = [...Array.from({ length: 12 }, (_, i) => status('drone-a', 'b1', i)), ...Array.from({ length: 5 }, (_, i) => status('drone-a', 'b2', i))];
  const b = Array.from({ length: 8 }, (_, i) => status('drone-b', 'b1', i));
  const flown = (id: string, droneId: string, t: number, end = 'Completed'): Row => ({
    id, stage: end, droneId,
    history: [['Requested', t], ['Scheduled', t + 10], ['HeadedToPickup', t + 20], ['PickedUp', t + 30], ['HeadedToDropoff', t + 40], [end, t + 50]],
  });
  return {
    journal: { 'drone-a.jsonl': a, 'drone-b.jsonl': b },
    stored: [...a, ...b],
    deliveries: [flown('d1', 'drone-a', T0), flown('d2', 'drone-a', T0 + 50), flown('d3', 'drone-a', T0 + 200, 'Cancelled'), flown('d4', 'drone-b', T0)],
    reservations: [],
    accepted: ['d1', 'd2', 'd3', 'd4'],
  };
}

let n = 0;
/** Writes a world to a fresh journal dir, InfluxDB database and PostgreSQL database, and accounts for it through the readers. */
async function books(w: World): Promise<Accounting & { unreadable: number }> {
  n += 1;
  const jdir = join(dir, `j${n}`);
  rmSync(jdir, { recursive: true, force: true });
  mkdirSync(jdir, { recursive: true });
  for (const [f, lines] of Object.entries(w.journal)) writeFileSync(join(jdir, f), lines.map((l) => `${JSON.stringify(l)}\n`).join(''));

  const db = `acct${n}`;
  await influxQuery(influx.url, '', `CREATE DATABASE ${db}`);
  const writer = createInfluxV1Writer({ url: influx.url, database: db });
  const points = w.stored.map((s) => statusPoint(makeStatus({ droneId: s.droneId, bootId: s.bootId, seq: s.seq, ts: s.ts }), 'aerie'));
  if (points.length > 0) expect(await writer.write(points)).toEqual({ ok: true });

  const url = await postgres.createDatabase();
  const kdb = openPostgres(url);
  await migrateToLatest(kdb as never, 'postgres');
  await migrateWorkflow(kdb as never, 'postgres');
  await kdb.destroy();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  for (const d of w.deliveries) {
    await client.query(
      `INSERT INTO deliveries (id, pickup_lat, pickup_lon, dropoff_lat, dropoff_lon, stage, drone_id, correlation_id, created_at, updated_at)
       VALUES ($1, 47.39, 8.54, 47.40, 8.55, $2, $3, $1, $4, $4)`, [d.id, d.stage, d.droneId, d.history[0]?.[1] ?? T0]);
  }
  // Insertion order is the order the stages moved in: interleave the deliveries by time, as the core writes them.
  const changes = w.deliveries.flatMap((d) => d.history.map(([stage, at], i) => ({ id: d.id, stage, at, i })));
  changes.sort((x, y) => x.at - y.at || x.i - y.i);
  for (const c of changes) await client.query('INSERT INTO stage_history (delivery_id, stage, at, event_id) VALUES ($1, $2, $3, $4)', [c.id, c.stage, c.at, `${c.id}:${c.i}`]);
  for (const [drone, holder] of w.reservations) await client.query('INSERT INTO drone_reservations (drone_id, holder, reserved_at) VALUES ($1, $2, $3)', [drone, holder, T0]);
  await client.end();

  const journal = readJournals(jdir);
  const droneIds = [...new Set(journal.entries.map((e) => e.droneId).concat(w.stored.map((s) => s.droneId)))];
  const stored = await readStoredStatuses({ url: influx.url, db }, droneIds, 7);
  const core = await readCoreSnapshot(url);
  return { ...account({ journal: journal.entries, stored, core, accepted: w.accepted }), unreadable: journal.unreadable };
}

const ZEROS = { status_lost: 0, status_duplicated: 0, deliveries_lost: 0, double_booked: 0, stages_backwards: 0, status_unjournaled: 0, deliveries_final_repeated: 0 };

describe('the fault bench\'s accounting, on real InfluxDB and PostgreSQL', () => {
  it('balances a clean world to zeros (the points read in pages smaller than a drone\'s series)', async () => {
    const b = await books(cleanWorld());
    expect(b).toMatchObject({ ...ZEROS, status_published: 25, status_stored: 25, deliveries_accepted: 4, deliveries_final: 4, deliveries_completed: 3, deliveries_cancelled: 1 });
    expect(b.examples).toEqual({});
  });

  it('status_lost: a journaled status missing from InfluxDB', async () => {
    const w = cleanWorld();
    w.stored = w.stored.filter((s) => !(s.droneId === 'drone-b' && s.seq === 5));
    expect(await books(w)).toMatchObject({ ...ZEROS, status_published: 25, status_stored: 24, status_lost: 1 });
  });

  it('status_duplicated: one id stored at two timestamps; a replay at the same timestamp is stored once', async () => {
    const w = cleanWorld();
    const s = w.stored[3]!;
    w.stored.push({ ...s }, { ...w.stored[4]!, ts: w.stored[4]!.ts + 1 });
    w.journal['drone-a.jsonl']!.push({ ...s });
    expect(await books(w)).toMatchObject({ ...ZEROS, status_published: 25, status_stored: 25, status_duplicated: 1 });
  });

  it('status_unjournaled: stored but in no journal (a journal tail lost to kill -9), not a loss or a duplicate; a torn last line is skipped', async () => {
    const w = cleanWorld();
    w.journal['drone-b.jsonl'] = w.journal['drone-b.jsonl']!.slice(0, 6);
    const b1 = await books(w);
    expect(b1).toMatchObject({ ...ZEROS, status_published: 23, status_stored: 23, status_unjournaled: 2 });
    const jdir = join(dir, 'torn');
    mkdirSync(jdir, { recursive: true });
    writeFileSync(join(jdir, 'drone-a.jsonl'), `${JSON.stringify(status('drone-a', 'b1', 0))}\n{"droneId":"drone-a","bootI`);
    expect(readJournals(jdir)).toMatchObject({ files: 1, unreadable: 1, entries: [status('drone-a', 'b1', 0)] });
  });

  it('deliveries_lost: accepted but absent, or not final', async () => {
    const w = cleanWorld();
    w.accepted.push('d-never-stored');
    w.deliveries[3] = { ...w.deliveries[3]!, stage: 'HeadedToDropoff', history: w.deliveries[3]!.history.slice(0, 5) };
    expect(await books(w)).toMatchObject({ ...ZEROS, deliveries_accepted: 5, deliveries_final: 3, deliveries_lost: 2 });
  });

  it('deliveries_final counts a delivery final once: two final stage changes are repeated, not final', async () => {
    const w = cleanWorld();
    w.deliveries[0]!.history.push(['Failed', T0 + 60]);
    w.deliveries[0]!.stage = 'Failed';
    expect(await books(w)).toMatchObject({ ...ZEROS, deliveries_final: 3, deliveries_final_repeated: 1 });
  });

  it('double_booked: two deliveries holding one drone over overlapping intervals, or an active delivery on a drone reserved for another', async () => {
    const w = cleanWorld();
    // d2 is Scheduled on drone-a 5 ms before d1 ends (d1 holds it T0+10 to T0+50; d2 from T0+60, back-to-back in the clean world).
    w.deliveries[1] = { ...w.deliveries[1]!, history: w.deliveries[1]!.history.map(([s, at]) => [s, at - 15] as [string, number]) };
    expect(await books(w)).toMatchObject({ ...ZEROS, double_booked: 1, examples: { double_booked: ['d1|d2'] } });

    const r = cleanWorld();
    r.deliveries.push({ id: 'd5', stage: 'HeadedToPickup', droneId: 'drone-b', history: [['Requested', T0 + 300], ['Scheduled', T0 + 310], ['HeadedToPickup', T0 + 320]] });
    r.reservations.push(['drone-b', 'd6']);
    expect(await books(r)).toMatchObject({ ...ZEROS, double_booked: 1, examples: { double_booked: ['d5|d6'] } });
  });

  it('a reschedule (back to Requested without a drone) ends the first hold, but moves the stage backwards', async () => {
    const w = cleanWorld();
    // d2 was first planned on drone-a while d1 flew, rescheduled back to Requested, then flown after d1.
    w.deliveries[1] = {
      ...w.deliveries[1]!,
      history: [['Requested', T0 + 1], ['Scheduled', T0 + 5], ['Requested', T0 + 8], ['Scheduled', T0 + 60], ['HeadedToPickup', T0 + 70], ['Completed', T0 + 90]],
    };
    expect(await books(w)).toMatchObject({ ...ZEROS, double_booked: 0, stages_backwards: 1 });
  });

  it('stages_backwards: a stage change to an earlier stage of the lifecycle', async () => {
    const w = cleanWorld();
    const h = w.deliveries[2]!.history;
    h.splice(4, 0, ['HeadedToPickup', T0 + 245]);
    expect(await books(w)).toMatchObject({ ...ZEROS, stages_backwards: 1, examples: { stages_backwards: ['d3: HeadedToDropoff→HeadedToPickup'] } });
  });
});
