import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DeliveryService, FileLogQueue, MemoryFleetLink, buildHttp, coreConfig } from '../src/index.js';
import { until } from '../../test-support/until.js';
import { httpStores, type StorePlace } from './http-stores.js';

// Issue 7: the request's pickup window and deadline flow through the durable ingestion queue
// (log → table) like the rest of the request: answered, compared, drained and rescheduled.
const root = mkdtempSync(join(tmpdir(), 'aerie-windows-queue-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
// Issue 7: the same suite on a SQLite file and on Debian's PostgreSQL (a database per test).
const stores = httpStores(['sqlite', 'postgres']);

/** The core as app.ts wires it with a queue: the store at `place` and the data dir's log. */
async function startCore(dir: string, place: StorePlace, drainEveryMs: number) {
  mkdirSync(dir, { recursive: true });
  const config = coreConfig({ dbPath: place.dbPath, databaseUrl: place.databaseUrl, ingest: { dir: join(dir, 'ingest'), drainEveryMs } });
  const { repo, records, close } = await stores.open(place);
  const queue = new FileLogQueue(join(dir, 'ingest'));
  const service = new DeliveryService(repo, new MemoryFleetLink(), config, undefined, records, {}, queue);
  const app = buildHttp(service);
  await service.start();
  return {
    service, repo, app,
    async close() {
      service.stop();
      await app.close();
      await service.ingestion!.stop();
      await service.workflow.stop();
      await queue.close();
      await close();
    },
  };
}

describe.each(['sqlite', 'postgres'] as const)('windows through the ingestion queue on %s', (kind) => {
  it('a queued request keeps its window: shown, compared for idempotency, rescheduled, and drained into the table after a restart', async () => {
    const dir = join(root, kind);
    const place = await stores.place(kind);
    const t0 = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    const body = { pickup: { lat: 47.399, lon: 8.547 }, dropoff: { lat: 47.401, lon: 8.55 }, pickupWindow: { start: iso(t0 + 3_600_000), end: iso(t0 + 4_000_000) }, deadline: iso(t0 + 5_000_000) };
    const a = await startCore(dir, place, 3_600_000);
    const put = (id: string, payload: object) => a.app.inject({ method: 'PUT', url: `/api/v1/deliveries/${id}`, payload });
    const first = await put('qw', body);
    expect(first.statusCode).toBe(202);
    expect(first.json()).toMatchObject({ id: 'qw', stage: 'Requested' });
    expect(await a.repo.get('qw')).toBeNull();
    expect((await a.app.inject({ method: 'GET', url: '/api/v1/deliveries/qw' })).json()).toMatchObject({ stage: 'Requested', pickupWindow: body.pickupWindow, deadline: body.deadline });
    expect((await put('qw', body)).statusCode).toBe(202);
    expect((await put('qw', { ...body, deadline: iso(t0 + 5_000_001) })).json()).toMatchObject({ status: 409, code: 'DLV_ERR_ID_CONFLICT' });
    expect((await put('qw2', body)).statusCode).toBe(202);
    // A PATCH takes a queued request into the table first, then changes its window.
    const moved = { start: iso(t0 + 3_700_000), end: iso(t0 + 4_100_000) };
    const patched = await a.app.inject({ method: 'PATCH', url: '/api/v1/deliveries/qw2', payload: { pickupWindow: moved } });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ pickupWindow: moved, deadline: body.deadline });
    await a.close();

    const b = await startCore(dir, place, 10);
    await until(() => b.service.ingestion!.size === 0, 'the queue drained');
    expect((await b.repo.get('qw'))?.window).toEqual({ pickupFrom: t0 + 3_600_000, pickupBy: t0 + 4_000_000, deadline: t0 + 5_000_000 });
    expect((await b.repo.get('qw2'))?.window).toEqual({ pickupFrom: t0 + 3_700_000, pickupBy: t0 + 4_100_000, deadline: t0 + 5_000_000 });
    await b.close();
  });
});
