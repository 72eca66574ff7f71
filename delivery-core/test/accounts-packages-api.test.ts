import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { Authenticator, DeliveryService, MemoryFleetLink, buildHttp, coreConfig } from '../src/index.js';
import { droneStatus } from '../../test-support/fixtures.js';
import { ManualClock } from './workflow-helpers.js';
import { httpStores, stopCore, type OpenStore, type StoreKind } from './http-stores.js';

const KEYS = [
  { key: 'k-shop', clientId: 'shop', role: 'business' as const, account: 'shop-1' },
  { key: 'k-other', clientId: 'other', role: 'business' as const, account: 'shop-2' },
  { key: 'k-alice', clientId: 'alice', role: 'customer' as const, account: 'alice' },
  { key: 'k-ops', clientId: 'ops', role: 'operator' as const },
];
const body = { pickup: { lat: 47.399, lon: 8.547 }, dropoff: { lat: 47.401, lon: 8.55 } };

let clock: ManualClock;
let fleet: MemoryFleetLink;
let service: DeliveryService;
let app: FastifyInstance;
// Issue 7: the same suite on memory, a SQLite file and Debian's PostgreSQL (a database per test).
const kinds = ['memory', 'sqlite', 'postgres'] as const;
const stores = httpStores(kinds);
let store: OpenStore | null = null;

function call(key: string | null, method: 'GET' | 'PUT', url: string, payload?: object) {
  return app.inject({ method, url, ...(payload ? { payload } : {}), headers: key ? { authorization: `Bearer ${key}` } : {} });
}

async function setup(kind: StoreKind, withAuth: boolean, more: Parameters<typeof coreConfig>[0] = {}): Promise<void> {
  clock = new ManualClock();
  fleet = new MemoryFleetLink();
  const config = coreConfig({ dbPath: ':memory:', scheduling: { holdMs: 0 }, auth: withAuth ? { keys: KEYS, ratePerSec: 10_000, burst: 10_000 } : {}, ...more });
  store = await stores.fresh(kind);
  service = new DeliveryService(store.repo, fleet, config, clock, store.records);
  app = buildHttp(service, new Authenticator(config.auth, clock));
}
afterEach(async () => {
  if (store) await stopCore(service, app, store);
  store = null;
});

describe.each(kinds)('on %s', (kind) => {
  describe('accounts and packages API, auth off', () => {
    beforeEach(() => setup(kind, false));

    it('PUT registers an account: 201, the same again 200, other details 409 DLV_ERR_ACCOUNT_CONFLICT; GET and 404', async () => {
      const first = await call(null, 'PUT', '/api/v1/accounts/shop-1', { kind: 'business', name: 'Shop One' });
      expect(first.statusCode).toBe(201);
      expect(first.headers.location).toBe('/api/v1/accounts/shop-1');
      expect(first.json()).toMatchObject({ id: 'shop-1', kind: 'business', name: 'Shop One', businessId: null, status: 'active' });
      expect((await call(null, 'PUT', '/api/v1/accounts/shop-1', { kind: 'business', name: 'Shop One' })).statusCode).toBe(200);
      const other = await call(null, 'PUT', '/api/v1/accounts/shop-1', { kind: 'business', name: 'Renamed' });
      expect(other.statusCode).toBe(409);
      expect(other.headers['content-type']).toContain('application/problem+json');
      expect(other.json()).toMatchObject({ code: 'DLV_ERR_ACCOUNT_CONFLICT' });
      expect((await call(null, 'GET', '/api/v1/accounts/shop-1')).json()).toMatchObject({ name: 'Shop One' });
      expect((await call(null, 'GET', '/api/v1/accounts/none')).json()).toMatchObject({ status: 404, code: 'DLV_ERR_ACCOUNT_NOT_FOUND' });
    });

    it('validates with JSON Schema (400 DLV_ERR_VALIDATION) and refuses a customer of an unknown business (422)', async () => {
      for (const payload of [{ kind: 'robot', name: 'x' }, { kind: 'business' }, { kind: 'business', name: '' }, { kind: 'business', name: 'x', extra: 1 }, { kind: 'business', name: 'x', businessId: 'b' }]) {
        const res = await call(null, 'PUT', '/api/v1/accounts/a1', payload);
        expect(res.statusCode, JSON.stringify(payload)).toBe(400);
        expect(res.json()).toMatchObject({ code: 'DLV_ERR_VALIDATION' });
      }
      expect((await call(null, 'PUT', '/api/v1/accounts/has+plus', { kind: 'business', name: 'x' })).statusCode).toBe(400);
      expect((await call(null, 'PUT', '/api/v1/accounts/c1', { kind: 'customer', name: 'C', businessId: 'ghost' })).json()).toMatchObject({ status: 422, code: 'DLV_ERR_ACCOUNT_NOT_FOUND' });
    });

    it('packages: PUT 201/200/409, weight and size validated, GET 404 DLV_ERR_PACKAGE_NOT_FOUND', async () => {
      const pkg = { size: 'medium', weightKg: 1.8, tag: 'ORDER-77' };
      const first = await call(null, 'PUT', '/api/v1/packages/p1', pkg);
      expect(first.statusCode).toBe(201);
      expect(first.json()).toMatchObject({ id: 'p1', owner: null, size: 'medium', weightKg: 1.8, tag: 'ORDER-77', deliveryId: null });
      expect((await call(null, 'PUT', '/api/v1/packages/p1', pkg)).statusCode).toBe(200);
      expect((await call(null, 'PUT', '/api/v1/packages/p1', { ...pkg, weightKg: 2 })).json()).toMatchObject({ status: 409, code: 'DLV_ERR_PACKAGE_CONFLICT' });
      for (const bad of [{ size: 'huge', weightKg: 1 }, { size: 'small', weightKg: 0 }, { size: 'small', weightKg: -1 }, { size: 'small' }, { size: 'small', weightKg: '1' }]) {
        expect((await call(null, 'PUT', '/api/v1/packages/p2', bad)).json(), JSON.stringify(bad)).toMatchObject({ status: 400, code: 'DLV_ERR_VALIDATION' });
      }
      expect((await call(null, 'GET', '/api/v1/packages/p9')).json()).toMatchObject({ status: 404, code: 'DLV_ERR_PACKAGE_NOT_FOUND' });
    });

    it('the OpenAPI document lists the accounts and packages routes with their schemas and the new codes', async () => {
      const doc = (await app.inject({ method: 'GET', url: '/api/docs' })).json<{ paths: Record<string, Record<string, { requestBody?: unknown }>>; components: { schemas: { Problem: { properties: { code: { enum: string[] } } } } } }>();
      expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/accounts/{id}', '/api/v1/accounts', '/api/v1/packages/{id}', '/api/v1/packages']));
      expect(doc.paths['/api/v1/packages/{id}']!.put!.requestBody).toBeDefined();
      expect(doc.components.schemas.Problem.properties.code.enum).toEqual(expect.arrayContaining(['DLV_ERR_ACCOUNT_NOT_FOUND', 'DLV_ERR_PACKAGE_CONFLICT']));
    });

    it('a package registered for a delivery is the one its saga carries: too heavy for any drone, the delivery fails with the code', async () => {
      fleet.pushStatus(droneStatus({ droneId: 'drone-001', ts: clock.now() }));
      expect((await call(null, 'PUT', '/api/v1/packages/piano', { size: 'large', weightKg: 40, tag: 'PIANO', deliveryId: 'd1' })).statusCode).toBe(201);
      expect((await call(null, 'PUT', '/api/v1/deliveries/d1', body)).statusCode).toBe(202);
      // A second package for the same delivery is refused.
      expect((await call(null, 'PUT', '/api/v1/packages/other', { size: 'small', weightKg: 1, deliveryId: 'd1' })).json()).toMatchObject({ status: 409, code: 'DLV_ERR_PACKAGE_CONFLICT' });
      await service.start();
      await clock.advance(1000);
      await service.workflow.supervisor.tick();
      const d = (await call(null, 'GET', '/api/v1/deliveries/d1')).json<{ stage: string; failureReason: string }>();
      expect(d).toMatchObject({ stage: 'Failed', failureReason: 'DLV_SAGA_NO_DRONE_FITS: package 40 kg > payload limit 2.5 kg' });
      expect((await call(null, 'GET', '/api/v1/packages/piano')).json()).toMatchObject({ deliveryId: null });
    });

    it('a delivery without a registered package gets a default one and is scheduled through the saga', async () => {
      fleet.pushStatus(droneStatus({ droneId: 'drone-001', ts: clock.now() }));
      await call(null, 'PUT', '/api/v1/deliveries/d2', body);
      expect(await service.schedulePending()).toBe(1);
      expect((await call(null, 'GET', '/api/v1/deliveries/d2')).json()).toMatchObject({ stage: 'Scheduled', droneId: 'drone-001' });
      expect((await call(null, 'GET', '/api/v1/packages/pkg-d2')).json()).toMatchObject({ deliveryId: 'd2', weightKg: 1 });
      expect(fleet.assignments.get('d2')).toMatchObject({ droneId: 'drone-001', action: 'fly' });
    });
  });

  describe('package weight in planning', () => {
    it('the planner gives a heavy registered package to the drone that can lift it, not the nearer small one', async () => {
      await setup(kind, false, {
        drones: [
          { id: 'small', airframe: 'quad 1 kg', maxPayloadKg: 1, maxRangeM: 20_000, home: { lat: 47.399, lon: 8.547 } },
          { id: 'big', airframe: 'hexa 5 kg', maxPayloadKg: 5, maxRangeM: 20_000, home: { lat: 47.39, lon: 8.53 } },
        ],
      });
      fleet.pushStatus(droneStatus({ droneId: 'small', ts: clock.now(), position: { lat: 47.399, lon: 8.547, altMsl: 488, altRel: 0 } }));
      fleet.pushStatus(droneStatus({ droneId: 'big', ts: clock.now(), position: { lat: 47.39, lon: 8.53, altMsl: 488, altRel: 0 } }));
      // 3 kg: over the default airframe's 2.5 kg, within the registered hexacopter's 5 kg.
      expect((await call(null, 'PUT', '/api/v1/packages/crate', { size: 'medium', weightKg: 3, deliveryId: 'd4' })).statusCode).toBe(201);
      await call(null, 'PUT', '/api/v1/deliveries/d4', body);
      await service.workflow.begin('d4');
      expect(await service.schedulePending()).toBe(1);
      expect((await call(null, 'GET', '/api/v1/deliveries/d4')).json()).toMatchObject({ stage: 'Scheduled', droneId: 'big' });
      // A light one next to it takes the small drone.
      await call(null, 'PUT', '/api/v1/deliveries/d5', body);
      expect(await service.schedulePending()).toBe(1);
      expect((await call(null, 'GET', '/api/v1/deliveries/d5')).json()).toMatchObject({ stage: 'Scheduled', droneId: 'small' });
    });
  });

  describe('accounts and packages API, with API keys', () => {
    beforeEach(async () => {
      await setup(kind, true);
      await call('k-ops', 'PUT', '/api/v1/accounts/shop-1', { kind: 'business', name: 'Shop One' });
      await call('k-ops', 'PUT', '/api/v1/accounts/shop-2', { kind: 'business', name: 'Shop Two' });
    });

    it('unauthenticated: 401 on every accounts and packages route', async () => {
      for (const [method, url] of [['GET', '/api/v1/accounts'], ['GET', '/api/v1/accounts/shop-1'], ['GET', '/api/v1/packages'], ['GET', '/api/v1/packages/p1']] as const) {
        expect((await call(null, method, url)).json(), url).toMatchObject({ status: 401, code: 'DLV_ERR_UNAUTHENTICATED' });
      }
      expect((await call(null, 'PUT', '/api/v1/accounts/x', { kind: 'business', name: 'x' })).statusCode).toBe(401);
    });

    it('a business registers itself and its customers, sees them, and not another business\'s', async () => {
      expect((await call('k-shop', 'PUT', '/api/v1/accounts/carol', { kind: 'customer', name: 'Carol' })).json()).toMatchObject({ businessId: 'shop-1' });
      expect((await call('k-shop', 'PUT', '/api/v1/accounts/dave', { kind: 'customer', name: 'Dave', businessId: 'shop-1' })).statusCode).toBe(201);
      expect((await call('k-shop', 'PUT', '/api/v1/accounts/eve', { kind: 'customer', name: 'Eve', businessId: 'shop-2' })).json()).toMatchObject({ status: 403, code: 'DLV_ERR_FORBIDDEN' });
      expect((await call('k-shop', 'PUT', '/api/v1/accounts/shop-9', { kind: 'business', name: 'Not me' })).json()).toMatchObject({ status: 403, code: 'DLV_ERR_FORBIDDEN' });
      expect((await call('k-shop', 'PUT', '/api/v1/accounts/frank', { kind: 'customer', name: 'F', status: 'suspended' })).json()).toMatchObject({ status: 403, code: 'DLV_ERR_ROLE_FORBIDDEN' });
      expect((await call('k-shop', 'GET', '/api/v1/accounts')).json<{ items: { id: string }[] }>().items.map((a) => a.id)).toEqual(['carol', 'dave']);
      expect((await call('k-shop', 'GET', '/api/v1/accounts/carol')).statusCode).toBe(200);
      expect((await call('k-other', 'GET', '/api/v1/accounts/carol')).json()).toMatchObject({ status: 403, code: 'DLV_ERR_FORBIDDEN' });
      expect((await call('k-other', 'GET', '/api/v1/accounts?business=shop-1')).json()).toMatchObject({ status: 403, code: 'DLV_ERR_FORBIDDEN' });
      expect((await call('k-ops', 'GET', '/api/v1/accounts?limit=2')).json<{ items: { id: string }[]; nextCursor: string }>()).toMatchObject({ items: [{ id: 'carol' }, { id: 'dave' }] });
    });

    it('a customer registers and sees only its own account; listing accounts is not for customers', async () => {
      expect((await call('k-alice', 'PUT', '/api/v1/accounts/alice', { kind: 'customer', name: 'Alice' })).statusCode).toBe(201);
      expect((await call('k-alice', 'PUT', '/api/v1/accounts/mallory', { kind: 'customer', name: 'M' })).statusCode).toBe(403);
      expect((await call('k-alice', 'GET', '/api/v1/accounts/alice')).statusCode).toBe(200);
      expect((await call('k-alice', 'GET', '/api/v1/accounts/shop-1')).json()).toMatchObject({ status: 403, code: 'DLV_ERR_FORBIDDEN' });
      expect((await call('k-alice', 'GET', '/api/v1/accounts')).json()).toMatchObject({ status: 403, code: 'DLV_ERR_ROLE_FORBIDDEN' });
    });

    it('packages: owned by the caller\'s account; a business sees its customers\' packages; others are refused', async () => {
      await call('k-shop', 'PUT', '/api/v1/accounts/carol', { kind: 'customer', name: 'Carol' });
      await call('k-alice', 'PUT', '/api/v1/accounts/alice', { kind: 'customer', name: 'Alice' });
      expect((await call('k-shop', 'PUT', '/api/v1/packages/s1', { size: 'small', weightKg: 1 })).json()).toMatchObject({ owner: 'shop-1' });
      expect((await call('k-shop', 'PUT', '/api/v1/packages/s2', { size: 'small', weightKg: 1, owner: 'carol' })).json()).toMatchObject({ owner: 'carol' });
      expect((await call('k-shop', 'PUT', '/api/v1/packages/s3', { size: 'small', weightKg: 1, owner: 'alice' })).statusCode).toBe(403);
      expect((await call('k-alice', 'PUT', '/api/v1/packages/a1', { size: 'small', weightKg: 1 })).json()).toMatchObject({ owner: 'alice' });
      expect((await call('k-shop', 'GET', '/api/v1/packages')).json<{ items: { id: string }[] }>().items.map((p) => p.id)).toEqual(['s1', 's2']);
      expect((await call('k-alice', 'GET', '/api/v1/packages')).json<{ items: { id: string }[] }>().items.map((p) => p.id)).toEqual(['a1']);
      expect((await call('k-ops', 'GET', '/api/v1/packages')).json<{ items: { id: string }[] }>().items.map((p) => p.id)).toEqual(['a1', 's1', 's2']);
      expect((await call('k-alice', 'GET', '/api/v1/packages/s1')).json()).toMatchObject({ status: 403, code: 'DLV_ERR_FORBIDDEN' });
      expect((await call('k-alice', 'GET', '/api/v1/packages?owner=shop-1')).statusCode).toBe(403);
      expect((await call('k-other', 'GET', '/api/v1/packages/s2')).statusCode).toBe(403);
      // A package cannot be attached to another account's delivery.
      await call('k-alice', 'PUT', '/api/v1/deliveries/da', body);
      expect((await call('k-shop', 'PUT', '/api/v1/packages/s4', { size: 'small', weightKg: 1, deliveryId: 'da' })).json()).toMatchObject({ status: 403, code: 'DLV_ERR_FORBIDDEN' });
    });

    it('by default a delivery for an account nobody registered fails at check-account; one a business registered goes through', async () => {
      fleet.pushStatus(droneStatus({ droneId: 'drone-001', ts: clock.now() }));
      // alice's key names her account; it does not register it (workflow/options.ts, the shipped default).
      expect((await call('k-alice', 'PUT', '/api/v1/deliveries/u1', body)).statusCode).toBe(202);
      expect(await service.workflow.begin('u1')).toMatchObject({ status: 'failed', error: { code: 'DLV_SAGA_ACCOUNT_UNKNOWN' } });
      expect((await call('k-alice', 'GET', '/api/v1/deliveries/u1')).json()).toMatchObject({ stage: 'Failed', failureReason: expect.stringMatching(/^DLV_SAGA_ACCOUNT_UNKNOWN: /) as unknown });
      // A customer the business registered is let through.
      expect((await call('k-shop', 'PUT', '/api/v1/accounts/carol', { kind: 'customer', name: 'Carol' })).statusCode).toBe(201);
      expect((await call('k-shop', 'PUT', '/api/v1/deliveries/c1', { ...body, owner: 'carol' })).statusCode).toBe(202);
      expect(await service.schedulePending()).toBe(1);
      expect((await call('k-shop', 'GET', '/api/v1/deliveries/c1')).json()).toMatchObject({ owner: 'carol', stage: 'Scheduled', droneId: 'drone-001' });
    });

    it('an operator suspends an account: its next delivery fails at the saga\'s first step', async () => {
      await call('k-alice', 'PUT', '/api/v1/accounts/alice', { kind: 'customer', name: 'Alice' });
      expect((await call('k-ops', 'PUT', '/api/v1/accounts/bob', { kind: 'customer', name: 'Bob', status: 'suspended' })).statusCode).toBe(201);
      await service.request('db', { ...body, owner: 'bob' }, 'corr');
      expect(await service.workflow.begin('db')).toMatchObject({ status: 'failed', error: { code: 'DLV_SAGA_ACCOUNT_SUSPENDED' } });
      expect((await call('k-ops', 'GET', '/api/v1/deliveries/db')).json()).toMatchObject({ stage: 'Failed' });
    });
  });
});
