import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { freePort } from '../../test-support/servers.js';
import { until } from '../../test-support/until.js';
import { CLEAN_CONNECTION_ERRORS, load, restartableBroker, root, startCore, waitReadyz, restartablePostgres } from './shutdown-helpers.js';

// Issue 8: the graceful SIGTERM of aerie-core on Debian's PostgreSQL, as a child process; the
// database stopped under it (readiness), and gone when SIGTERM comes (the log is handed back).

describe('aerie-core health and graceful shutdown on PostgreSQL (child process)', () => {
  it('PostgreSQL: readyz 503 while the database is stopped; SIGTERM drains into it, or with it stopped leaves the log on disk; exit 0; nothing 202\'d is lost', async () => {
    const [broker, postgres] = await Promise.all([freePort().then((p) => restartableBroker(p)), restartablePostgres()]);
    const dataDir = join(root, 'postgres');
    mkdirSync(dataDir, { recursive: true });
    const port = await freePort();
    const env = { DATABASE_URL: postgres.url };
    const core = startCore(dataDir, port, broker.url, env);
    await waitReadyz(core.base, 200, 'start');

    await postgres.stop();
    const down = await waitReadyz(core.base, 503, 'PostgreSQL stopped');
    expect(down.checks.database).toMatch(/^(unreachable|no answer)/);
    expect(down.checks.mqtt).toBe('ok');
    await postgres.start();
    await waitReadyz(core.base, 200, 'PostgreSQL back');

    // SIGTERM under load with the database up: drained into the table.
    const round1 = load(core.base, 4, 'pg1');
    await until(() => round1.accepted.length >= 220, '220 accepted creates');
    core.child.kill('SIGTERM');
    expect(await core.exited).toBe(0);
    await round1.stop();
    expect([...round1.statuses.keys()].filter((s) => s !== 202 && s !== 503)).toEqual([]);
    expect(round1.errors.filter((e) => !CLEAN_CONNECTION_ERRORS.has(e))).toEqual([]);
    expect(core.lines.some((l) => /ingestion log drained into the table/.test(l))).toBe(true);

    // SIGTERM with the database gone (the table's backlog is full: these wait in the log): handed back.
    const second = startCore(dataDir, port, broker.url, env);
    await waitReadyz(second.base, 200, 'restart');
    const round2 = load(second.base, 4, 'pg2');
    await until(() => round2.accepted.length >= 50, '50 more accepted creates');
    // With a table shared between instances an unknown id is looked up there, which needs the
    // database: the load stops before it goes.
    await round2.stop();
    await postgres.stop();
    second.child.kill('SIGTERM');
    const secondCode = await second.exited;
    expect(secondCode).toBe(0);
    expect(second.lines.some((l) => /accepted requests left in the ingestion log .* for the next start/.test(l))).toBe(true);

    await postgres.start();
    const third = startCore(dataDir, port, broker.url, env);
    await waitReadyz(third.base, 200, 'restart with the database back');
    const accepted = [...round1.accepted, ...round2.accepted];
    for (const id of accepted) expect((await fetch(`${third.base}/api/v1/deliveries/${id}`)).status).toBe(200);
    third.child.kill('SIGTERM');
    expect(await third.exited).toBe(0);
    const db = new pg.Client({ connectionString: postgres.url });
    await db.connect();
    try {
      const { rows } = await db.query<{ id: string }>('SELECT id FROM deliveries');
      const have = new Set(rows.map((r) => r.id));
      expect(accepted.filter((id) => !have.has(id))).toEqual([]);
    } finally {
      await db.end();
    }
  }, 60_000);
});

