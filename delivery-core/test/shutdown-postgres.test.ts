import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { freePort } from '../../test-support/servers.js';
import { until } from '../../test-support/until.js';
import { CLEAN_CONNECTION_ERRORS, load, restartableBroker, restartablePostgres, root, startCore, waitReadyz } from './shutdown-helpers.js';

// Issue 8: aerie-core on Debian's PostgreSQL as a child process: readiness while the database
// is stopped under it, and a SIGTERM under load drained into the table
// (shutdown-handback.test.ts: a SIGTERM with the database gone).

async function tableIds(url: string): Promise<Set<string>> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    return new Set((await db.query<{ id: string }>('SELECT id FROM deliveries')).rows.map((r) => r.id));
  } finally {
    await db.end();
  }
}

describe('aerie-core health and graceful shutdown on PostgreSQL (child process)', () => {
  it('readyz 503 while the database is stopped, 200 when it is back; SIGTERM under load answers or cleanly refuses, drains into the table, exits 0', async () => {
    const [broker, postgres] = await Promise.all([freePort().then((p) => restartableBroker(p)), restartablePostgres()]);
    const dataDir = join(root, 'postgres');
    mkdirSync(dataDir, { recursive: true });
    const env = { DATABASE_URL: postgres.url };
    const core = startCore(dataDir, await freePort(), broker.url, env);
    await waitReadyz(core.base, 200, 'start');

    await postgres.stop();
    const down = await waitReadyz(core.base, 503, 'PostgreSQL stopped');
    expect(down.checks.database).toMatch(/^(unreachable|no answer)/);
    expect(down.checks.mqtt).toBe('ok');
    expect((await fetch(`${core.base}/livez`)).status).toBe(200);
    await postgres.start();
    await waitReadyz(core.base, 200, 'PostgreSQL back');

    // Past tableBacklogMax (200 Requested rows; no drones fly) the rest wait in the log.
    const clients = load(core.base, 4, 'pg');
    await until(() => clients.accepted.length >= 220, '220 accepted creates');
    core.child.kill('SIGTERM');
    expect(await core.exited).toBe(0);
    await clients.stop();
    expect([...clients.statuses.keys()].filter((s) => s !== 202 && s !== 503)).toEqual([]);
    expect(clients.errors.filter((e) => !CLEAN_CONNECTION_ERRORS.has(e))).toEqual([]);
    expect(core.lines.some((l) => /ingestion log drained into the table/.test(l))).toBe(true);
    const rows = await tableIds(postgres.url);
    expect(clients.accepted.filter((id) => !rows.has(id))).toEqual([]);
  }, 60_000);
});
