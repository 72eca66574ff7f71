import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../test-support/servers.js';
import { until } from '../../test-support/until.js';
import { load, restartableBroker, restartablePostgres, root, startCore, waitReadyz } from './shutdown-helpers.js';

// Issue 8: a SIGTERM that finds PostgreSQL gone hands the accepted requests back: they stay in
// the ingestion log on disk, and the next start (with the database back) has every one of them.

describe('aerie-core graceful shutdown with PostgreSQL gone (child process)', () => {
  it('leaves what the database did not take in the log, says so, exits 0; after the restart every 202 is there', async () => {
    const [broker, postgres] = await Promise.all([freePort().then((p) => restartableBroker(p)), restartablePostgres()]);
    const dataDir = join(root, 'handback');
    mkdirSync(dataDir, { recursive: true });
    const port = await freePort();
    const env = { DATABASE_URL: postgres.url };
    const core = startCore(dataDir, port, broker.url, env);
    await waitReadyz(core.base, 200, 'start');
    // Past tableBacklogMax (200 Requested rows; no drones fly) the rest wait in the log. With a
    // table shared between instances an unknown id is looked up there, which needs the database:
    // the load stops before it goes.
    const clients = load(core.base, 4, 'hb');
    await until(() => clients.accepted.length >= 230, '230 accepted creates');
    await clients.stop();
    await postgres.stop();
    core.child.kill('SIGTERM');
    expect(await core.exited).toBe(0);
    expect(core.lines.some((l) => /accepted requests left in the ingestion log .* for the next start: the database did not take them/.test(l))).toBe(true);

    await postgres.start();
    const again = startCore(dataDir, port, broker.url, env);
    await waitReadyz(again.base, 200, 'restart with the database back');
    for (const id of clients.accepted) expect((await fetch(`${again.base}/api/v1/deliveries/${id}`)).status).toBe(200);
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
    // That shutdown, with the database up, drained what the first one handed back.
    expect(again.lines.some((l) => /ingestion log drained into the table/.test(l))).toBe(true);
  }, 60_000);
});
