import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { Authenticator, DeliveryService, MemoryDeliveryRepository, MemoryFleetLink, buildHttp, coreConfig } from '../src/index.js';

let now = 1_700_000_000_000;
const clock = { now: () => now, setTimeout: () => 0, clearTimeout: () => undefined, setInterval: () => 0, clearInterval: () => undefined };
const body = { pickup: { lat: 47.399, lon: 8.547 }, dropoff: { lat: 47.401, lon: 8.55 } };
const config = coreConfig({
  dbPath: ':memory:',
  auth: {
    ratePerSec: 2, burst: 3,
    keys: [
      { key: 'k-alice', clientId: 'alice', role: 'customer', account: 'alice' },
      { key: 'k-shop', clientId: 'shop', role: 'business', account: 'shop-1' },
      { key: 'k-ops', clientId: 'ops', role: 'operator' },
    ],
  },
});
let app: FastifyInstance;

beforeEach(() => {
  const service = new DeliveryService(new MemoryDeliveryRepository(), new MemoryFleetLink(), config, clock);
  app = buildHttp(service, new Authenticator(config.auth, clock));
});
afterEach(async () => {
  await app.close();
});

/** Clock time each request advances (ms): 0 to exercise the rate limit, 1 s to stay under it. */
let tick = 0;
const as = (key: string | null, method: 'GET' | 'PUT' | 'DELETE', url: string, payload?: object) =>
  (now += tick, app.inject({ method, url, ...(payload ? { payload } : {}), headers: key ? { authorization: `Bearer ${key}` } : {} }));

describe('API keys, roles and rate limits', () => {
  it('refuses a request without a valid key with 401 and the scheme to use', async () => {
    for (const key of [null, 'wrong']) {
      const res = await as(key, 'GET', '/api/v1/deliveries');
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toContain('Bearer');
      expect(res.json()).toMatchObject({ code: 'DLV_ERR_UNAUTHENTICATED' });
    }
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('keeps a customer to its own deliveries and refuses cross-tenant access with 403', async () => {
    tick = 1000;
    // The 202 is a status monitor (http.ts, Accepted): the owner shows on the delivery itself.
    expect((await as('k-shop', 'PUT', '/api/v1/deliveries/s1', body)).statusCode).toBe(202);
    expect((await as('k-shop', 'GET', '/api/v1/deliveries/s1')).json()).toMatchObject({ owner: 'shop-1' });
    expect((await as('k-alice', 'PUT', '/api/v1/deliveries/a1', body)).statusCode).toBe(202);
    expect((await as('k-alice', 'GET', '/api/v1/deliveries/a1')).json()).toMatchObject({ owner: 'alice' });
    const steal = await as('k-alice', 'PUT', '/api/v1/deliveries/a2', { ...body, owner: 'shop-1' });
    expect(steal.statusCode).toBe(403);
    expect(steal.json()).toMatchObject({ code: 'DLV_ERR_FORBIDDEN' });
    expect((await as('k-alice', 'GET', '/api/v1/deliveries/s1')).statusCode).toBe(403);
    expect((await as('k-alice', 'DELETE', '/api/v1/deliveries/s1')).statusCode).toBe(403);
    expect((await as('k-alice', 'GET', '/api/v1/deliveries/s1/events')).statusCode).toBe(403);
    expect((await as('k-alice', 'GET', '/api/v1/deliveries?owner=shop-1')).statusCode).toBe(403);
    const mine = (await as('k-alice', 'GET', '/api/v1/deliveries')).json<{ items: { id: string }[] }>();
    expect(mine.items.map((d) => d.id)).toEqual(['a1']);
    const all = (await as('k-ops', 'GET', '/api/v1/deliveries')).json<{ items: { id: string }[] }>();
    expect(all.items.map((d) => d.id).sort()).toEqual(['a1', 's1']);
  });

  it('limits each client to its rate with 429 and Retry-After, without touching the others', async () => {
    tick = 0;
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) codes.push((await as('k-alice', 'GET', '/api/v1/deliveries')).statusCode);
    expect(codes).toEqual([200, 200, 200, 429]);
    const limited = await as('k-alice', 'GET', '/api/v1/deliveries');
    expect(limited.headers['retry-after']).toBe('1');
    expect(limited.json()).toMatchObject({ code: 'DLV_ERR_RATE_LIMITED', status: 429 });
    expect((await as('k-ops', 'GET', '/api/v1/deliveries')).statusCode).toBe(200);
    now += 1000;
    expect((await as('k-alice', 'GET', '/api/v1/deliveries')).statusCode).toBe(200);
  });
});
