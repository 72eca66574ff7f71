import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { SignJWT, type JWTPayload } from 'jose';
import { systemClock } from '@aerie/contracts';
import { Authenticator, DeliveryService, MemoryDeliveryRepository, MemoryFleetLink, buildHttp, coreConfig } from '../src/index.js';

// The gateway's auth subrequest (routes/gateway-auth.ts) on its own: JWTs as well as API keys,
// the decision per original URI, the principal in headers, auth off. Through Debian's nginx:
// distributed/test/gateway-auth.test.ts.
const SECRET = 'a-shared-hs256-secret-of-32-bytes-or-more';
const body = { pickup: { lat: 47.399, lon: 8.547 }, dropoff: { lat: 47.401, lon: 8.55 } };
const jwt = (c: JWTPayload) => new SignJWT({ exp: Math.floor(Date.now() / 1000) + 600, ...c }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));

let app: FastifyInstance;
let open: FastifyInstance;
beforeAll(async () => {
  const config = coreConfig({ dbPath: ':memory:', auth: { keys: [{ key: 'cust-key-0123456789', clientId: 'c-1', role: 'customer', account: 'acct-1' }], jwt: { hs256Secret: SECRET } } });
  app = buildHttp(new DeliveryService(new MemoryDeliveryRepository(), new MemoryFleetLink(), config, systemClock), new Authenticator(config.auth, systemClock));
  const openConfig = coreConfig({ dbPath: ':memory:' });
  open = buildHttp(new DeliveryService(new MemoryDeliveryRepository(), new MemoryFleetLink(), openConfig, systemClock), Authenticator.open(systemClock));
  expect((await app.inject({ method: 'PUT', url: '/api/v1/deliveries/ga-1', headers: { 'x-api-key': 'cust-key-0123456789' }, payload: body })).statusCode).toBe(202);
});
afterAll(async () => {
  await app?.close();
  await open?.close();
});

const check = (token: string | null, uri: string, a = app) => a.inject({
  method: 'GET', url: '/internal/v1/gateway-auth', headers: { 'x-original-uri': uri, ...(token ? { authorization: `Bearer ${token}` } : {}) },
});

describe('GET /internal/v1/gateway-auth', () => {
  it('an operator JWT may read drone telemetry, the fleet and the history: 204 with the principal', async () => {
    const token = await jwt({ sub: 'ops-9', role: 'operator' });
    for (const uri of ['/api/v1/drones/d-1/track?from=2026-01-01T00:00:00Z', '/api/v1/drones/d-1/latest', '/api/v1/fleet', '/api/v1/history/drones/d-1', '/api/v1/deliveries/ga-1/track']) {
      const res = await check(token, uri);
      expect(res.statusCode, uri).toBe(204);
      expect(res.headers, uri).toMatchObject({ 'x-aerie-client-id': 'ops-9', 'x-aerie-role': 'operator' });
      expect(res.headers['x-aerie-account']).toBeUndefined();
    }
  });

  it('a customer JWT: its own delivery\'s track only; the code also in X-Aerie-Problem-Code', async () => {
    const own = await check(await jwt({ sub: 'c-2', role: 'customer', account: 'acct-1' }), '/api/v1/deliveries/ga-1/track');
    expect(own.statusCode).toBe(204);
    expect(own.headers).toMatchObject({ 'x-aerie-client-id': 'c-2', 'x-aerie-role': 'customer', 'x-aerie-account': 'acct-1' });
    const other = await check(await jwt({ sub: 'c-3', role: 'customer', account: 'acct-2' }), '/api/v1/deliveries/ga-1/track');
    expect(other.statusCode).toBe(403);
    expect(other.headers['x-aerie-problem-code']).toBe('DLV_ERR_FORBIDDEN');
    expect(other.json()).toMatchObject({ code: 'DLV_ERR_FORBIDDEN' });
    const drone = await check(await jwt({ sub: 'c-2', role: 'customer', account: 'acct-1' }), '/api/v1/drones/d-1/track');
    expect(drone.statusCode).toBe(403);
    expect(drone.headers['x-aerie-problem-code']).toBe('DLV_ERR_ROLE_FORBIDDEN');
  });

  it('401 without or with a bad credential; 403 for a path that is no telemetry resource (even for an operator)', async () => {
    for (const token of [null, 'nope', await jwt({ sub: 'x', role: 'operator', exp: 1 })]) {
      const res = await check(token, '/api/v1/fleet');
      expect(res.statusCode).toBe(401);
      expect(res.headers['x-aerie-problem-code']).toBe('DLV_ERR_UNAUTHENTICATED');
    }
    const ops = await jwt({ sub: 'ops-9', role: 'admin' });
    for (const uri of ['', '/api/v1/deliveries', '/api/v1/drones/d-1/track/extra', '/api/v1/deliveries/ga-1/events']) {
      expect((await check(ops, uri)).statusCode, uri).toBe(403);
    }
  });

  it('with authentication off (no keys, no JWT), everything passes, as on /api/v1', async () => {
    expect((await check(null, '/api/v1/drones/d-1/track', open)).statusCode).toBe(204);
  });
});
