import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { SignJWT } from 'jose';
import { Authenticator, DeliveryService, MemoryDeliveryRepository, MemoryFleetLink, buildHttp, coreConfig, type Role } from '../src/index.js';
import { droneStatus } from '../../test-support/fixtures.js';

/**
 * Every route × every role, with API keys and with JWTs: who gets in, who is refused, with which
 * status and code. Unauthenticated: 401 DLV_ERR_UNAUTHENTICATED. Another account's delivery,
 * package or account: 403 DLV_ERR_FORBIDDEN (ids are chosen by clients and a PUT on a taken id
 * answers 409, so a 404 would hide nothing). A resource the role may not use: 403
 * DLV_ERR_ROLE_FORBIDDEN. A business sees its own account and its customers' (cust-1 here).
 */
const now = 1_700_000_000_000;
const clock = { now: () => now, setTimeout: () => 0, clearTimeout: () => undefined, setInterval: () => 0, clearInterval: () => undefined };
const SECRET = 'role-table-hs256-secret-at-least-32-bytes';
const body = { pickup: { lat: 47.399, lon: 8.547 }, dropoff: { lat: 47.401, lon: 8.55 } };

interface Actor { name: string; role: Role | null; account: string | null }
const ACTORS: Actor[] = [
  { name: 'anonymous', role: null, account: null },
  { name: 'alice', role: 'customer', account: 'alice' },
  { name: 'shop', role: 'business', account: 'shop-1' },
  { name: 'ops', role: 'operator', account: null },
  { name: 'root', role: 'admin', account: null },
];
const OWNERS = ['alice', 'shop-1', 'cust-1'];
const BUSINESS_OF: Record<string, string> = { 'cust-1': 'shop-1' };

const config = coreConfig({
  dbPath: ':memory:',
  auth: {
    ratePerSec: 10_000, burst: 10_000, jwt: { hs256Secret: SECRET },
    keys: ACTORS.filter((a) => a.role).map((a) => ({ key: `k-${a.name}`, clientId: a.name, role: a.role!, ...(a.account ? { account: a.account } : {}) })),
  },
  drones: [{ id: 'drone-001', airframe: 'quad-x 2 kg', maxPayloadKg: 2.5, maxRangeM: 20_000, home: { lat: 47.3977, lon: 8.5456 } }],
});

let service: DeliveryService;
let app: FastifyInstance;
let base: string;
let n = 0;

beforeAll(async () => {
  const fleet = new MemoryFleetLink();
  service = new DeliveryService(new MemoryDeliveryRepository(), fleet, config, clock);
  app = buildHttp(service, new Authenticator(config.auth, clock));
  base = await app.listen({ host: '127.0.0.1', port: 0 });
  fleet.pushStatus(droneStatus({ droneId: 'drone-001', ts: now }));
  for (const [id, kind, businessId] of [['alice', 'customer', null], ['shop-1', 'business', null], ['cust-1', 'customer', 'shop-1']] as const) {
    await service.records.insertAccount({ id, kind, name: id, businessId, status: 'active', createdAt: now });
  }
});
afterAll(async () => {
  await app?.close();
});

type Credential = (a: Actor) => Promise<Record<string, string>>;
const CREDENTIALS: [string, Credential][] = [
  ['API key', (a) => Promise.resolve<Record<string, string>>(a.role ? { authorization: `Bearer k-${a.name}` } : {})],
  ['X-Api-Key', (a) => Promise.resolve<Record<string, string>>(a.role ? { 'x-api-key': `k-${a.name}` } : {})],
  ['JWT HS256', async (a): Promise<Record<string, string>> => a.role ? {
    authorization: `Bearer ${await new SignJWT({ role: a.role, ...(a.account ? { account: a.account } : {}) })
      .setProtectedHeader({ alg: 'HS256' }).setSubject(`jwt-${a.name}`).setExpirationTime(Math.floor(now / 1000) + 600)
      .sign(new TextEncoder().encode(SECRET))}`,
  } : {}],
];

async function parcel(owner: string): Promise<string> {
  const id = `p${++n}`;
  await service.records.insertPackage({ id, owner, size: 'small', weightKg: 0.5, tag: null, deliveryId: null, createdAt: now });
  return id;
}

/** A fresh delivery of `owner` for each cell, so a cancel in one cell changes nothing in another. */
async function target(owner: string): Promise<string> {
  const id = `t${++n}`;
  await service.request(id, { ...body, owner }, `corr-${n}`);
  return id;
}

interface Route { name: string; ok: number; fleet?: boolean; roles?: readonly Role[]; call(owner: string): Promise<{ method: string; path: string; body?: object; headers?: Record<string, string> }> }
const ROUTES: Route[] = [
  { name: 'GET /deliveries', ok: 200, call: (o) => Promise.resolve({ method: 'GET', path: `/api/v1/deliveries?owner=${o}` }) },
  { name: 'PUT /deliveries/{id}', ok: 202, call: (o) => Promise.resolve({ method: 'PUT', path: `/api/v1/deliveries/new-${++n}`, body: { ...body, owner: o } }) },
  { name: 'POST /deliveries', ok: 202, call: (o) => Promise.resolve({ method: 'POST', path: '/api/v1/deliveries', body: { ...body, owner: o }, headers: { 'idempotency-key': `ik-${++n}` } }) },
  { name: 'GET /deliveries/{id}', ok: 200, call: async (o) => ({ method: 'GET', path: `/api/v1/deliveries/${await target(o)}` }) },
  { name: 'GET /deliveries/{id}/events', ok: 200, call: async (o) => ({ method: 'GET', path: `/api/v1/deliveries/${await target(o)}/events` }) },
  { name: 'GET /deliveries/{id}/assignment', ok: 200, call: async (o) => ({ method: 'GET', path: `/api/v1/deliveries/${await target(o)}/assignment` }) },
  { name: 'PATCH /deliveries/{id}', ok: 200, call: async (o) => ({ method: 'PATCH', path: `/api/v1/deliveries/${await target(o)}`, body: { dropoff: { lat: 47.402, lon: 8.551 } } }) },
  { name: 'DELETE /deliveries/{id}', ok: 202, call: async (o) => ({ method: 'DELETE', path: `/api/v1/deliveries/${await target(o)}` }) },
  { name: 'GET /accounts/{id}', ok: 200, call: (o) => Promise.resolve({ method: 'GET', path: `/api/v1/accounts/${o}` }) },
  { name: 'GET /accounts?business=', ok: 200, roles: ['business', 'operator', 'admin'], call: (o) => Promise.resolve({ method: 'GET', path: `/api/v1/accounts?business=${BUSINESS_OF[o] ?? o}` }) },
  { name: 'PUT /packages/{id}', ok: 201, call: (o) => Promise.resolve({ method: 'PUT', path: `/api/v1/packages/new-${++n}`, body: { size: 'small', weightKg: 0.4, owner: o } }) },
  { name: 'GET /packages/{id}', ok: 200, call: async (o) => ({ method: 'GET', path: `/api/v1/packages/${await parcel(o)}` }) },
  { name: 'GET /packages?owner=', ok: 200, call: (o) => Promise.resolve({ method: 'GET', path: `/api/v1/packages?owner=${o}` }) },
  { name: 'GET /drones', ok: 200, fleet: true, call: () => Promise.resolve({ method: 'GET', path: '/api/v1/drones' }) },
  { name: 'GET /drones/{id}', ok: 200, fleet: true, call: () => Promise.resolve({ method: 'GET', path: '/api/v1/drones/drone-001' }) },
];

function expected(r: Route, a: Actor, owner: string): [number, string | null] {
  if (!a.role) return [401, 'DLV_ERR_UNAUTHENTICATED'];
  const roles = r.roles ?? (r.fleet ? ['operator', 'admin'] : null);
  if (roles && !roles.includes(a.role)) return [403, 'DLV_ERR_ROLE_FORBIDDEN'];
  if (r.fleet) return [r.ok, null];
  if (r.name === 'GET /accounts?business=') owner = BUSINESS_OF[owner] ?? owner;
  const sees = a.account === null || a.account === owner || (a.role === 'business' && BUSINESS_OF[owner] === a.account);
  return sees ? [r.ok, null] : [403, 'DLV_ERR_FORBIDDEN'];
}

/** Status and problem code; an event stream is cut after its headers. */
async function send(req: Awaited<ReturnType<Route['call']>>, headers: Record<string, string>): Promise<[number, string | null]> {
  const ctl = new AbortController();
  const res = await fetch(`${base}${req.path}`, {
    method: req.method, signal: ctl.signal,
    headers: { ...headers, ...req.headers, ...(req.body ? { 'content-type': 'application/json' } : {}) },
    ...(req.body ? { body: JSON.stringify(req.body) } : {}),
  });
  if (res.headers.get('content-type')?.startsWith('text/event-stream')) {
    ctl.abort();
    return [res.status, null];
  }
  const json = (await res.json()) as { code?: string };
  return [res.status, res.ok ? null : json.code ?? null];
}

describe.each(CREDENTIALS)('role × route with %s', (_kind, credential) => {
  it.each(ROUTES.map((r) => [r.name, r] as const))('%s', async (_name, route) => {
    const got: string[] = [];
    const want: string[] = [];
    for (const a of ACTORS) {
      for (const owner of OWNERS) {
        want.push(`${a.name} on ${owner}'s: ${expected(route, a, owner).join(' ')}`);
        got.push(`${a.name} on ${owner}'s: ${(await send(await route.call(owner), await credential(a))).join(' ')}`);
      }
    }
    expect(got).toEqual(want);
  });
});

describe('credentials that are not', () => {
  it('refuses a wrong key, a malformed bearer and an empty header with 401 and the Bearer scheme', async () => {
    const attempts: Record<string, string>[] = [{ authorization: 'Bearer nope' }, { authorization: 'Bearer a.b.c' }, { authorization: 'Basic YTpi' }, { 'x-api-key': '' }];
    for (const headers of attempts) {
      const res = await fetch(`${base}/api/v1/deliveries`, { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('Bearer realm="aerie"');
      expect(await res.json()).toMatchObject({ code: 'DLV_ERR_UNAUTHENTICATED' });
    }
  });

  it('opens no tracking page with a key: only the token of the link does', async () => {
    const id = await target('alice');
    for (const key of ['k-alice', 'k-ops']) {
      const res = await fetch(`${base}/track/${id}`, { headers: { authorization: `Bearer ${key}` } });
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ code: 'DLV_ERR_NOT_FOUND' });
    }
    const link = ((await (await fetch(`${base}/api/v1/deliveries/${id}`, { headers: { authorization: 'Bearer k-alice' } })).json()) as { trackingUrl: string }).trackingUrl;
    expect((await fetch(`${base}${link}`)).status).toBe(200);
  });

  it('rate-limits the public tracking page per client address with 429, Retry-After and a code', async () => {
    const tight = coreConfig({ dbPath: ':memory:', auth: { ratePerSec: 1, burst: 2 } });
    const svc = new DeliveryService(new MemoryDeliveryRepository(), new MemoryFleetLink(), tight, clock);
    const small = buildHttp(svc, new Authenticator(tight.auth, clock));
    try {
      const codes: number[] = [];
      for (let i = 0; i < 3; i++) codes.push((await small.inject({ method: 'GET', url: '/track/x1?t=guess' })).statusCode);
      expect(codes).toEqual([404, 404, 429]);
      const res = await small.inject({ method: 'GET', url: '/track/x1?t=guess' });
      expect(res.headers['retry-after']).toBe('1');
      expect(res.json()).toMatchObject({ code: 'DLV_ERR_RATE_LIMITED' });
    } finally {
      await small.close();
    }
  });

  it('names both schemes in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${base}/api/docs`)).json()) as { security: unknown; components: { securitySchemes: Record<string, { type: string }> } };
    expect(doc.security).toEqual([{ bearer: [] }, { apiKey: [] }]);
    expect(doc.components.securitySchemes).toMatchObject({ bearer: { type: 'http' }, apiKey: { type: 'apiKey' } });
  });

  it('keeps the list of a customer to its own account whatever the filter says', async () => {
    const res = await fetch(`${base}/api/v1/deliveries?limit=500`, { headers: { authorization: 'Bearer k-alice' } });
    const owners = new Set(((await res.json()) as { items: { owner: string }[] }).items.map((d) => d.owner));
    expect([...owners]).toEqual(['alice']);
  });
});
