import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteDeliveryRepository, coreConfig, startDeliveryCore } from '../src/index.js';
import { freePort } from '../../test-support/servers.js';
import { until } from '../../test-support/until.js';
import { CLEAN_CONNECTION_ERRORS, body, load, restartableBroker, root, startCore, waitReadyz } from './shutdown-helpers.js';

// Issue 8: liveness, readiness and the graceful SIGTERM of aerie-core as a child process on a
// SQLite file (shutdown-postgres.test.ts: on PostgreSQL); the broker stopped and started again.

describe('aerie-core health and graceful shutdown (child process)', () => {
  it('SQLite: livez/readyz; readyz 503 while the broker is down; SIGTERM answers or cleanly refuses, drains the log into the table, exits 0; nothing 202\'d is lost', async () => {
    const broker = await restartableBroker(await freePort());
    const dataDir = join(root, 'sqlite');
    mkdirSync(dataDir, { recursive: true });
    const port = await freePort();
    const core = startCore(dataDir, port, broker.url);
    expect(await waitReadyz(core.base, 200, 'start')).toEqual({ status: 'ready', checks: { database: 'ok', mqtt: 'ok', ingest: 'ok' } });
    expect((await fetch(`${core.base}/livez`)).status).toBe(200);
    expect(await (await fetch(`${core.base}/healthz`)).json()).toEqual({ ok: true });

    // The broker goes away: not ready (the liveness probe does not care); back: ready again.
    await broker.stop();
    const down = await waitReadyz(core.base, 503, 'broker stopped');
    expect(down.status).toBe('not_ready');
    expect(down.checks.mqtt).not.toBe('ok');
    expect(down.checks.database).toBe('ok');
    expect((await fetch(`${core.base}/livez`)).status).toBe(200);
    await broker.start();
    await waitReadyz(core.base, 200, 'broker back');

    // Past 200 waiting Requested rows (tableBacklogMax; no drones fly) the drainer leaves the rest in the log:
    // the shutdown must move them into the table.
    const first = await fetch(`${core.base}/api/v1/deliveries/watched`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(first.status).toBe(202);
    const events = await fetch(`${core.base}/api/v1/deliveries/watched/events`);
    expect(events.status).toBe(200);
    const streamEnded = events.text();
    const clients = load(core.base, 8, 'sd');
    await until(() => clients.accepted.length >= 250, '250 accepted creates');
    core.child.kill('SIGTERM');
    expect(await core.exited).toBe(0);
    await clients.stop();
    await streamEnded; // the event stream was ended, not left holding the server open
    expect([...clients.statuses.keys()].filter((s) => s !== 202 && s !== 503)).toEqual([]);
    expect(clients.errors.filter((e) => !CLEAN_CONNECTION_ERRORS.has(e))).toEqual([]);
    expect(core.lines.some((l) => /ingestion log drained into the table/.test(l))).toBe(true);

    // Drained: every 202 is a row of the table before anything starts again.
    const repo = new SqliteDeliveryRepository(join(dataDir, 'deliveries.sqlite'));
    const rows = new Set(await repo.allIds());
    await repo.close();
    expect(clients.accepted.filter((id) => !rows.has(id))).toEqual([]);

    const again = startCore(dataDir, port, broker.url);
    await waitReadyz(again.base, 200, 'restart');
    for (const id of ['watched', ...clients.accepted.slice(0, 50), ...clients.accepted.slice(-50)]) {
      expect((await fetch(`${again.base}/api/v1/deliveries/${id}`)).status).toBe(200);
    }
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
  }, 60_000);

});

describe('readiness during an in-process shutdown', () => {
  it('is 503 from the moment shutdown begins, naming the shutdown; the probes need no credential and are not rate limited', async () => {
    const broker = await restartableBroker(await freePort());
    const dir = join(root, 'in-process');
    const config = coreConfig({
      httpPort: 0, dbPath: join(dir, 'core.sqlite'), ingest: { dir: join(dir, 'ingest') }, mqtt: { url: broker.url, clientId: 'core-in-process' },
      auth: { keys: [{ key: 'ops-key', clientId: 'ops', role: 'operator' }], ratePerSec: 1, burst: 1 },
    });
    const core = await startDeliveryCore(config, { log: () => undefined });
    expect((await fetch(`${core.url}/api/v1/deliveries`)).status).toBe(401);
    for (let k = 0; k < 10; k++) {
      expect((await fetch(`${core.url}/readyz`)).status).toBe(200);
      expect((await fetch(`${core.url}/livez`)).status).toBe(200);
    }
    expect((await core.readiness.report()).status).toBe('ready');
    const done = core.shutdown();
    expect(await core.readiness.report()).toMatchObject({ status: 'not_ready', checks: { shutdown: 'in progress' } });
    expect((await done).late).toEqual([]);
  });
});
