import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryDeliveryRepository, PostgresDeliveryRepository, SqliteDeliveryRepository } from '../src/index.js';
import { startPostgres, type RunningPostgres } from '../../test-support/postgres.js';
import { newDelivery, repositoryContract } from './repository-contract.js';

const dir = mkdtempSync(join(tmpdir(), 'aerie-core-'));
let postgres: RunningPostgres;
// A test needing PostgreSQL fails when it is missing: startPostgres throws, naming the package.
beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  await postgres?.stop();
  rmSync(dir, { recursive: true, force: true });
});
let n = 0;

repositoryContract('memory', () => new MemoryDeliveryRepository());
repositoryContract('sqlite', () => new SqliteDeliveryRepository(join(dir, `c${++n}.sqlite`)));
repositoryContract('postgres', async () => new PostgresDeliveryRepository(await postgres.createDatabase()));

describe('SqliteDeliveryRepository', () => {
  it('survives close and reopen: state is durable, migrations run once', async () => {
    const path = join(dir, 'durable.sqlite');
    const a = new SqliteDeliveryRepository(path);
    await a.insert(newDelivery('d1'), { stage: 'Requested', at: 1000, eventId: 'd1:r' });
    await a.advance('d1', { stage: 'Scheduled', at: 2000, eventId: 'd1:s' }, { droneId: 'drone-003', eta: 5000 });
    await a.close();
    const b = new SqliteDeliveryRepository(path);
    expect(await b.get('d1')).toMatchObject({ stage: 'Scheduled', droneId: 'drone-003', eta: 5000 });
    expect(await b.history('d1')).toHaveLength(2);
    await b.close();
  });

  it('group commit under kill -9: every insert acknowledged before the kill is on disk after it', async () => {
    const path = join(dir, 'crash.sqlite');
    const groupCommit = fileURLToPath(new URL('../dist/adapters/group-commit.js', import.meta.url));
    const repository = fileURLToPath(new URL('../dist/adapters/sqlite-repository.js', import.meta.url));
    // The child acknowledges on stdout each insert whose promise resolved, as the API answers 202.
    const script = `
      import { GroupCommitQueue } from ${JSON.stringify(groupCommit)};
      import { SqliteDeliveryRepository } from ${JSON.stringify(repository)};
      const repo = new SqliteDeliveryRepository(${JSON.stringify(path)});
      await repo.opened();
      const q = new GroupCommitQueue(repo);
      let k = 0;
      const d = (id) => ({ id, owner: null, pickup: { lat: 1, lon: 2 }, dropoff: { lat: 3, lon: 4 }, stage: 'Requested', droneId: null, eta: null,
        lastPosition: null, correlationId: 'c', createdAt: 1, updatedAt: 1, failureReason: null, etaAtDispatch: null, etaAtHalfway: null,
        window: { pickupFrom: null, pickupBy: null, deadline: null }, route: null, abortedDroneId: null });
      const more = () => {
        for (let i = 0; i < 50; i++) {
          const id = 'k' + (k++);
          q.insert(d(id), { stage: 'Requested', at: 1, eventId: id + ':r' }).then(() => process.stdout.write(id + '\\n'));
        }
        setImmediate(more);
      };
      more();
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    await new Promise<void>((resolve, reject) => {
      const t = setInterval(() => {
        if (out.split('\n').length > 2000) {
          clearInterval(t);
          resolve();
        }
      }, 20);
      child.once('exit', (code) => reject(new Error(`child exited early (${code})`)));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const acked = out.split('\n').slice(0, -1);
    const repo = new SqliteDeliveryRepository(path);
    const present = new Set((await repo.list({}, 1_000_000)).map((d) => d.id));
    expect(acked.filter((id) => !present.has(id))).toEqual([]);
    expect(acked.length).toBeGreaterThanOrEqual(2000);
    await repo.close();
    // The file is intact, not merely readable.
    const db = new Database(path, { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });
});

// Migration 0003 (issue 7: window, route, aborted drone) on a store written before it. The old
// store is made by dropping what 0003 added, rows kept; on SQLite one column is left behind, as
// a crash inside the migration would (SQLite runs it outside a transaction).
const COLUMNS_0003 = ['pickup_from', 'pickup_by', 'deadline', 'route', 'aborted_drone_id'];
describe('migration 0003 on an older store', () => {
  it('SQLite: adds the missing columns (one already there from a cut-short run), rows get an open window', async () => {
    const path = join(dir, 'old.sqlite');
    const a = new SqliteDeliveryRepository(path);
    await a.insert(newDelivery('old'), { stage: 'Requested', at: 1000, eventId: 'old:r' });
    await a.close();
    const raw = new Database(path);
    for (const c of COLUMNS_0003.slice(1)) raw.exec(`ALTER TABLE deliveries DROP COLUMN ${c}`);
    raw.prepare("DELETE FROM kysely_migration WHERE name = '0003_delivery_window_route'").run();
    raw.close();
    const b = new SqliteDeliveryRepository(path);
    expect(await b.get('old')).toEqual(newDelivery('old'));
    const window = { pickupFrom: 5000, pickupBy: null, deadline: 9000 };
    await b.insert({ ...newDelivery('new'), window }, { stage: 'Requested', at: 1000, eventId: 'new:r' });
    expect((await b.get('new'))?.window).toEqual(window);
    await b.close();
  });

  it('PostgreSQL: adds the columns to a store from before 0003', async () => {
    const url = await postgres.createDatabase();
    const a = new PostgresDeliveryRepository(url);
    await a.insert(newDelivery('old'), { stage: 'Requested', at: 1000, eventId: 'old:r' });
    await a.close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`ALTER TABLE deliveries ${COLUMNS_0003.map((c) => `DROP COLUMN ${c}`).join(', ')}`);
    await client.query("DELETE FROM kysely_migration WHERE name = '0003_delivery_window_route'");
    await client.end();
    const b = new PostgresDeliveryRepository(url);
    expect(await b.get('old')).toEqual(newDelivery('old'));
    const route = { droneId: 'x', from: { lat: 1, lon: 2 }, toPickup: [], toDropoff: [{ lat: 1.5, lon: 2.5 }], toHome: [] };
    await b.update('old', { route }, 2000);
    expect((await b.get('old'))?.route).toEqual(route);
    await b.close();
  });
});
