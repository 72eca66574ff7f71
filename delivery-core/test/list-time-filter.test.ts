import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DeliveryService, FileLogQueue, MemoryFleetLink, buildHttp, coreConfig } from '../src/index.js';
import { httpStores } from './http-stores.js';

// Issue 7: "list with filters (status, owner, time) and cursor pagination". The store's half-open
// [from, to) is in the repository contract; this is the API's ?from=&to= (RFC 3339 date-times),
// on rows in the table and on requests still in the ingestion log, with the cursor.
const root = mkdtempSync(join(tmpdir(), 'aerie-list-time-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const body = { pickup: { lat: 47.399, lon: 8.547 }, dropoff: { lat: 47.401, lon: 8.55 } };
const T0 = Date.parse('2026-12-03T08:00:00.000Z');
// Issue 7: the same suite on a SQLite file and on Debian's PostgreSQL (a database per test).
const stores = httpStores(['sqlite', 'postgres']);

for (const kind of ['sqlite', 'postgres'] as const) for (const where of ['table', 'queue'] as const) {
  describe(`GET /api/v1/deliveries?from=&to= on requests in the ${where}, ${kind}`, () => {
    it('keeps createdAt in [from, to), pages through it with the cursor, and refuses a bad date with 400', async () => {
      const dir = join(root, kind, where);
      const place = await stores.place(kind);
      mkdirSync(dir, { recursive: true });
      let now = T0;
      // Real timers (the queue's drainer is not due for an hour); createdAt from this clock.
      const clock = { now: () => now, setTimeout, clearTimeout, setInterval, clearInterval } as unknown as ConstructorParameters<typeof DeliveryService>[3];
      const config = coreConfig({ dbPath: place.dbPath, databaseUrl: place.databaseUrl, ...(where === 'queue' ? { ingest: { dir: join(dir, 'ingest'), drainEveryMs: 3_600_000 } } : {}) });
      const { repo, records, close } = await stores.open(place);
      const queue = where === 'queue' ? new FileLogQueue(join(dir, 'ingest')) : null;
      const service = new DeliveryService(repo, new MemoryFleetLink(), config, clock, records, {}, queue);
      const app = buildHttp(service);
      await service.start();
      try {
        for (let k = 0; k < 4; k++) {
          now = T0 + k * 60_000;
          expect((await app.inject({ method: 'PUT', url: `/api/v1/deliveries/m${k}`, payload: body })).statusCode).toBe(202);
        }
        if (where === 'queue') expect(await repo.get('m0')).toBeNull();
        else expect(await repo.get('m0')).not.toBeNull();
        const iso = (k: number) => new Date(T0 + k * 60_000).toISOString();
        const ids = async (query: string) => {
          const res = await app.inject({ method: 'GET', url: `/api/v1/deliveries?${query}` });
          expect(res.statusCode, query).toBe(200);
          return res.json<{ items: { id: string }[]; nextCursor: string | null }>();
        };
        expect((await ids(`from=${iso(1)}&to=${iso(3)}`)).items.map((d) => d.id)).toEqual(['m1', 'm2']);
        expect((await ids(`to=${iso(1)}`)).items.map((d) => d.id)).toEqual(['m0']);
        expect((await ids(`from=${iso(4)}`)).items).toEqual([]);
        const seen: string[] = [];
        let query = `from=${iso(1)}&limit=1`;
        for (let guard = 0; guard < 10; guard++) {
          const page = await ids(query);
          seen.push(...page.items.map((d) => d.id));
          if (!page.nextCursor) break;
          query = `from=${iso(1)}&limit=1&cursor=${page.nextCursor}`;
        }
        expect(seen).toEqual(['m1', 'm2', 'm3']);
        for (const bad of ['from=yesterday', 'to=2026-13-40T00:00:00Z']) {
          const res = await app.inject({ method: 'GET', url: `/api/v1/deliveries?${bad}` });
          expect(res.json(), bad).toMatchObject({ status: 400, code: 'DLV_ERR_VALIDATION' });
        }
      } finally {
        service.stop();
        await app.close();
        await service.ingestion?.stop();
        await service.workflow.stop();
        await queue?.close();
        await close();
      }
    });
  });
}
