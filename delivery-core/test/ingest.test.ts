import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { DeliveryService, MemoryFleetLink, SqliteDeliveryRepository, buildHttp, coreConfig, type DeliveryRepository } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'aerie-ingest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let t = 1_700_000_000_000;
const clock = { now: () => t, setTimeout: () => 0, clearTimeout: () => undefined, setInterval: () => 0, clearInterval: () => undefined };
const body = { pickup: { lat: 47.399, lon: 8.547 }, dropoff: { lat: 47.401, lon: 8.55 } };
let n = 0;
let repo: DeliveryRepository;
let service: DeliveryService;
let app: FastifyInstance;

beforeEach(() => {
  repo = new SqliteDeliveryRepository(join(dir, `i${++n}.sqlite`));
  service = new DeliveryService(repo, new MemoryFleetLink(), coreConfig({ dbPath: ':memory:' }), clock);
  app = buildHttp(service);
});
afterEach(async () => {
  await app.close();
  await repo.close();
});

describe('durable ingestion', () => {
  it('group-commits concurrent requests: many 202s per transaction, each on disk when answered', async () => {
    const answers = await Promise.all(Array.from({ length: 200 }, (_, k) =>
      app.inject({ method: 'PUT', url: `/api/v1/deliveries/g${k}`, payload: body }).then(async (res) => {
        // Answered means committed: a second connection to the file already sees the row.
        const other = new SqliteDeliveryRepository(join(dir, `i${n}.sqlite`));
        const seen = await other.get(`g${k}`) !== null;
        await other.close();
        return { status: res.statusCode, seen };
      })));
    expect(answers.every((a) => a.status === 202 && a.seen)).toBe(true);
    expect(service.ingest.stats.items).toBe(200);
    expect(service.ingest.stats.batches).toBeLessThan(200);
    expect(service.ingest.stats.largestBatch).toBeGreaterThan(1);
    expect(await service.backlog()).toBe(200);
  });

  it('POST with an Idempotency-Key: a retry gets the same delivery, another body is a 422, no key is a 400', async () => {
    const post = (key: string | undefined, payload: object) => app.inject({ method: 'POST', url: '/api/v1/deliveries', payload, headers: key ? { 'idempotency-key': key } : {} });
    const a = await post('order-77', body);
    expect(a.statusCode).toBe(202);
    const b = await post('order-77', body);
    expect(b.statusCode).toBe(202);
    expect(b.headers.location).toBe(a.headers.location);
    expect(b.json<{ id: string }>().id).toBe(a.json<{ id: string }>().id);
    const c = await post('order-77', { ...body, dropoff: { lat: 47.5, lon: 8.5 } });
    expect(c.statusCode).toBe(422);
    expect(c.json()).toMatchObject({ code: 'DLV_ERR_IDEMPOTENCY_KEY_REUSED' });
    expect((await post(undefined, body)).json()).toMatchObject({ status: 400, code: 'DLV_ERR_IDEMPOTENCY_KEY_MISSING' });
    expect(await service.backlog()).toBe(1);
  });

  it('lists with filters and an opaque cursor until the last page', async () => {
    for (let k = 0; k < 5; k++) {
      t += 1000;
      await app.inject({ method: 'PUT', url: `/api/v1/deliveries/l${k}`, payload: { ...body, owner: k % 2 ? 'shop-odd' : 'shop-even' } });
    }
    const seen: string[] = [];
    let url = '/api/v1/deliveries?limit=2';
    for (let guard = 0; guard < 10; guard++) {
      const page = (await app.inject({ method: 'GET', url })).json<{ items: { id: string }[]; nextCursor: string | null }>();
      seen.push(...page.items.map((d) => d.id));
      if (!page.nextCursor) break;
      url = `/api/v1/deliveries?limit=2&cursor=${page.nextCursor}`;
    }
    expect(seen).toEqual(['l0', 'l1', 'l2', 'l3', 'l4']);
    const odd = (await app.inject({ method: 'GET', url: '/api/v1/deliveries?owner=shop-odd&stage=Requested' })).json<{ items: { id: string }[] }>();
    expect(odd.items.map((d) => d.id)).toEqual(['l1', 'l3']);
    const bad = await app.inject({ method: 'GET', url: '/api/v1/deliveries?cursor=bm90LWpzb24' });
    expect(bad.json()).toMatchObject({ status: 400, code: 'DLV_ERR_VALIDATION' });
    expect((await app.inject({ method: 'GET', url: '/api/v1/deliveries?stage=Flying' })).statusCode).toBe(400);
  });

  it('serves an OpenAPI 3.1 document built from the validated schemas', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/api/docs' })).json<{ openapi: string; paths: Record<string, Record<string, { requestBody?: unknown }>> }>();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths['/api/v1/deliveries/{id}']!).sort()).toEqual(['delete', 'get', 'patch', 'put']);
    expect(Object.keys(doc.paths['/api/v1/deliveries']!).sort()).toEqual(['get', 'post']);
    expect(doc.paths['/api/v1/deliveries']!.post!.requestBody).toBeDefined();
  });
});
