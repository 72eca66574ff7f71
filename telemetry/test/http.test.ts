import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildHttpApi } from '../src/adapters/http.js';
import { createMemoryStore } from '../src/adapters/memory-store.js';
import { createMemoryLogger } from '../src/adapters/stderr-logger.js';
import type { TelemetryStore } from '../src/ports.js';
import { ManualClock } from './helpers/manual-clock.js';
import { makeFlight, makeStatus } from './helpers/status.js';

const T0 = Date.UTC(2024, 4, 1, 10); // 2024-05-01T10:00:00Z
const flight = makeFlight(10, { ts: T0 }, 60_000); // one point a minute, 10:00–10:09

describe('history HTTP API', () => {
  let store: TelemetryStore;
  let app: FastifyInstance;
  let logger: ReturnType<typeof createMemoryLogger>;

  // One instance for the file: the tests only read, and building fastify compiles every schema.
  beforeAll(() => {
    store = createMemoryStore();
    store.append([...flight, makeStatus({ seq: 99, ts: T0 + 3_600_000, position: null })]);
    logger = createMemoryLogger();
    app = buildHttpApi({ store, logger, clock: new ManualClock(T0 + 30 * 60_000), health: () => ({ ingest: { received: 7 } }) });
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });

  const get = (url: string) => app.inject({ method: 'GET', url });

  it('answers a track filtered to an epoch-ms range, oldest first', async () => {
    const res = await get(`/api/v1/drones/drone-1/track?from=${T0 + 120_000}&to=${T0 + 300_000}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = res.json<{ droneId: string; from: number; to: number; points: { ts: number }[] }>();
    expect(body).toMatchObject({ droneId: 'drone-1', from: T0 + 120_000, to: T0 + 300_000 });
    expect(body.points.map((p) => p.ts)).toEqual([2, 3, 4, 5].map((m) => T0 + m * 60_000));
  });

  it('serialises every TrackPoint field', async () => {
    const res = await get(`/api/v1/drones/drone-1/track?from=${T0}&to=${T0}`);
    expect(res.json<{ points: unknown[] }>().points).toEqual(store.track('drone-1', T0, T0, 1));
  });

  it('reads ISO 8601 bounds, with an encoded or a space-decoded offset', async () => {
    const a = await get('/api/v1/drones/drone-1/track?from=2024-05-01T12:03:00%2B02:00&to=2024-05-01T10:04:00Z');
    expect(a.json<{ points: unknown[] }>().points).toHaveLength(2);
    const b = await get('/api/v1/drones/drone-1/track?from=2024-05-01T12:03:00+02:00&to=2024-05-01T10:04:00Z');
    expect(b.json()).toEqual(a.json());
  });

  it('defaults to the hour before now and honours limit', async () => {
    const all = await get('/api/v1/drones/drone-1/track');
    expect(all.json()).toMatchObject({ from: T0 - 30 * 60_000, to: T0 + 30 * 60_000 });
    expect(all.json<{ points: unknown[] }>().points).toHaveLength(10);
    const two = await get('/api/v1/drones/drone-1/track?limit=2');
    expect(two.json<{ points: { ts: number }[] }>().points.map((p) => p.ts)).toEqual([T0, T0 + 60_000]);
  });

  it('answers an empty track for a drone it never heard of', async () => {
    const res = await get('/api/v1/drones/drone-9/track');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ droneId: 'drone-9', points: [] });
  });

  it.each([
    ['from after to', `from=${T0 + 1}&to=${T0}`, 'TEL_ERR_BAD_RANGE'],
    ['unreadable from', 'from=yesterday', 'TEL_ERR_BAD_TIME'],
    ['offset-less date-time', 'to=2024-05-01T10:00:00', 'TEL_ERR_BAD_TIME'],
    ['overlong to', `to=${'1'.repeat(65)}`, 'TEL_ERR_BAD_TIME'],
    ['limit above 50000', 'limit=50001', 'TEL_ERR_BAD_LIMIT'],
    ['limit zero', 'limit=0', 'TEL_ERR_BAD_LIMIT'],
    ['limit not a number', 'limit=lots', 'TEL_ERR_BAD_LIMIT'],
  ])('answers %s with 400 problem+json', async (_name, query, code) => {
    const res = await get(`/api/v1/drones/drone-1/track?${query}`);
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    const problem = res.json<Record<string, unknown>>();
    expect(Object.keys(problem).sort()).toEqual(['code', 'detail', 'status', 'title', 'type']);
    expect(problem).toMatchObject({ type: `https://aerie.dev/problems/${code}`, status: 400, code });
    expect(typeof problem.title).toBe('string');
    expect(typeof problem.detail).toBe('string');
  });

  it('refuses a drone id the contract would not allow', async () => {
    const res = await get('/api/v1/drones/-bad%20id/track');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'TEL_ERR_BAD_DRONE_ID' });
    expect(res.json<{ detail: string }>().detail).toContain('params/droneId');
  });

  it('answers latest with the newest positioned point, or 404 TEL_ERR_NO_DATA', async () => {
    const res = await get('/api/v1/drones/drone-1/latest');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ droneId: 'drone-1', point: { ts: T0 + 9 * 60_000 } });

    const none = await get('/api/v1/drones/drone-9/latest');
    expect(none.statusCode).toBe(404);
    expect(none.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(none.json()).toMatchObject({ status: 404, code: 'TEL_ERR_NO_DATA' });
  });

  it('answers unknown routes with 404 problem+json', async () => {
    const res = await get('/api/v1/nope?x=1');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'TEL_ERR_NOT_FOUND', detail: 'GET /api/v1/nope is not a telemetry resource' });
  });

  it('answers a closed store with 503 TEL_ERR_STORE_CLOSED', async () => {
    const closed = createMemoryStore();
    closed.close();
    const api = buildHttpApi({ store: closed, logger });
    try {
      const res = await api.inject({ method: 'GET', url: '/api/v1/drones/drone-1/latest' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ code: 'TEL_ERR_STORE_CLOSED' });
    } finally {
      await api.close();
    }
  });

  it("hides a driver's error behind TEL_ERR_INTERNAL and logs the cause", async () => {
    const broken = buildHttpApi({
      store: { ...createMemoryStore(), latest: () => { throw new Error('SQLITE_CORRUPT: database disk image is malformed'); } },
      logger,
    });
    try {
      const r = await broken.inject({ method: 'GET', url: '/api/v1/drones/drone-1/latest' });
      expect(r.statusCode).toBe(500);
      expect(r.json()).toMatchObject({ code: 'TEL_ERR_INTERNAL' });
      expect(r.body).not.toContain('SQLITE');
      expect(logger.lines.some((l) => l.startsWith('error ') && l.includes('SQLITE_CORRUPT'))).toBe(true);
    } finally {
      await broken.close();
    }
  });

  it('answers healthz with the extra health fields', async () => {
    const res = await get('/healthz');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', ingest: { received: 7 } });
  });
});
