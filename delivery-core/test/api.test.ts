import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { DeliveryTracking } from '@aerie/contracts';
import {
  DeliveryErrorCodes, DeliveryService, MemoryFleetLink, buildHttp, coreConfig, remainingSeconds,
} from '../src/index.js';
import { droneStatus } from '../../test-support/fixtures.js';
import { httpStores, stopCore, type OpenStore } from './http-stores.js';

const now = 1_700_000_000_000;
const clock = {
  now: () => now,
  setTimeout: () => 0, clearTimeout: () => undefined, setInterval: () => 0, clearInterval: () => undefined,
};
let fleet: MemoryFleetLink;
let service: DeliveryService;
let app: FastifyInstance;
let store: OpenStore;
// Issue 7: the same suite on memory, a SQLite file and Debian's PostgreSQL (a database per test).
const stores = httpStores(['memory', 'sqlite', 'postgres']);
const body = { pickup: { lat: 47.399, lon: 8.547 }, dropoff: { lat: 47.401, lon: 8.55 } };

function tracking(deliveryId: string, type: DeliveryTracking['type'], stage: DeliveryTracking['stage'], eventId: string): DeliveryTracking {
  return { v: 1, eventId, type, deliveryId, droneId: 'drone-001', stage, ts: now, location: { lat: 47.399, lon: 8.547, altRel: 0 }, eta: null };
}

describe.each(['memory', 'sqlite', 'postgres'] as const)('delivery API on %s', (kind) => {
  beforeEach(async () => {
    fleet = new MemoryFleetLink();
    store = await stores.fresh(kind);
    service = new DeliveryService(store.repo, fleet, coreConfig({ dbPath: ':memory:', scheduling: { holdMs: 0 } }), clock, store.records);
    app = buildHttp(service);
  });
  afterEach(() => stopCore(service, app, store));

  it('pins the error catalogue', () => {
    expect(Object.keys(DeliveryErrorCodes)).toEqual([
      'DLV_ERR_VALIDATION', 'DLV_ERR_NOT_FOUND', 'DLV_ERR_ID_CONFLICT', 'DLV_ERR_TOO_LATE_TO_CANCEL', 'DLV_ERR_NOT_ACTIVE', 'DLV_ERR_INTERNAL', 'DLV_ERR_CONFIG',
      'DLV_ERR_IDEMPOTENCY_KEY_MISSING', 'DLV_ERR_IDEMPOTENCY_KEY_REUSED', 'DLV_ERR_TOO_LATE_TO_RESCHEDULE',
      'DLV_ERR_UNAUTHENTICATED', 'DLV_ERR_FORBIDDEN', 'DLV_ERR_RATE_LIMITED', 'DLV_ERR_ROLE_FORBIDDEN', 'DLV_ERR_DRONE_NOT_FOUND',
      'DLV_ERR_ACCOUNT_NOT_FOUND', 'DLV_ERR_ACCOUNT_CONFLICT', 'DLV_ERR_PACKAGE_NOT_FOUND', 'DLV_ERR_PACKAGE_CONFLICT',
      'DLV_ERR_WINDOW_INVALID', 'DLV_ERR_WINDOW_PAST', 'DLV_ERR_DEADLINE_UNREACHABLE', 'DLV_ERR_ID_CONFLICT_LATE',
    ]);
  });

  it('PUT is an idempotent create answered 202 with a Location; a different body is a 409', async () => {
    const first = await app.inject({ method: 'PUT', url: '/api/v1/deliveries/d1', payload: body, headers: { 'x-correlation-id': 'corr-1' } });
    expect(first.statusCode).toBe(202);
    expect(first.headers.location).toBe('/api/v1/deliveries/d1');
    expect(first.json()).toMatchObject({ id: 'd1', stage: 'Requested', correlationId: 'corr-1' });
    const again = await app.inject({ method: 'PUT', url: '/api/v1/deliveries/d1', payload: body });
    expect(again.statusCode).toBe(202);
    expect(again.json()).toMatchObject({ id: 'd1', correlationId: 'corr-1' });
    const other = await app.inject({ method: 'PUT', url: '/api/v1/deliveries/d1', payload: { ...body, dropoff: { lat: 47.5, lon: 8.5 } } });
    expect(other.statusCode).toBe(409);
    expect(other.headers['content-type']).toContain('application/problem+json');
    expect(other.json()).toMatchObject({ code: 'DLV_ERR_ID_CONFLICT', status: 409 });
  });

  it('answers wrong bodies and ids with 400 problem+json DLV_ERR_VALIDATION', async () => {
    for (const [url, payload] of [
      ['/api/v1/deliveries/d1', { pickup: { lat: 91, lon: 0 }, dropoff: body.dropoff }],
      ['/api/v1/deliveries/d1', { pickup: body.pickup }],
      ['/api/v1/deliveries/d1', { ...body, extra: true }],
      ['/api/v1/deliveries/has+plus', body],
    ] as const) {
      const res = await app.inject({ method: 'PUT', url, payload });
      expect(res.statusCode, url).toBe(400);
      expect(res.json()).toMatchObject({ code: 'DLV_ERR_VALIDATION', status: 400 });
    }
    const notJson = await app.inject({ method: 'PUT', url: '/api/v1/deliveries/d1', payload: '{', headers: { 'content-type': 'application/json' } });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json()).toMatchObject({ code: 'DLV_ERR_VALIDATION' });
    expect((await app.inject({ method: 'GET', url: '/api/v1/deliveries/none' })).json()).toMatchObject({ code: 'DLV_ERR_NOT_FOUND', status: 404 });
  });

  it('assigns the nearest idle drone with enough battery and gives an ETA from distance and cruise speed', async () => {
    fleet.pushStatus(droneStatus({ droneId: 'far', ts: now, position: { lat: 47.41, lon: 8.56, altMsl: 488, altRel: 0 } }));
    fleet.pushStatus(droneStatus({ droneId: 'near-low', ts: now, battery: { pct: 12, voltage: 14.2, current: 0 }, position: { lat: 47.399, lon: 8.547, altMsl: 488, altRel: 0 } }));
    fleet.pushStatus(droneStatus({ droneId: 'near', ts: now, position: { lat: 47.3985, lon: 8.5465, altMsl: 488, altRel: 0 } }));
    fleet.pushStatus(droneStatus({ droneId: 'flying', ts: now, armed: true, landedState: 'IN_AIR', position: { lat: 47.399, lon: 8.547, altMsl: 518, altRel: 30 } }));
    await app.inject({ method: 'PUT', url: '/api/v1/deliveries/d1', payload: body });
    expect(await service.schedulePending()).toBe(1);
    const d = (await app.inject({ method: 'GET', url: '/api/v1/deliveries/d1' })).json<{ stage: string; droneId: string; etaEpochMs: number; stageHistory: unknown[] }>();
    expect(d).toMatchObject({ stage: 'Scheduled', droneId: 'near' });
    const expected = remainingSeconds(coreConfig().profile, 'Scheduled', { lat: 47.3985, lon: 8.5465 }, body.pickup, body.dropoff);
    expect(d.etaEpochMs).toBe(now + Math.round(expected * 1000));
    expect(expected).toBeGreaterThan(60);
    expect(fleet.assignments.get('d1')).toMatchObject({ action: 'fly', droneId: 'near', pickup: body.pickup });
    // The optimiser says why: its cost, how many drones could fly it, what ruled the rest out.
    expect(service.explanations.get('d1')).toMatchObject({ droneId: 'near', feasible: 2, runnerUp: { droneId: 'far' } });
    // The drone is now busy: a second delivery waits for another.
    await app.inject({ method: 'PUT', url: '/api/v1/deliveries/d2', payload: body });
    expect(await service.schedulePending()).toBe(1);
    expect((await service.get('d2')).delivery.droneId).toBe('far');
  });

  it('follows tracking events forward only, ignores repeats, and cancels only before pickup', async () => {
    fleet.pushStatus(droneStatus({ droneId: 'drone-001', ts: now }));
    await app.inject({ method: 'PUT', url: '/api/v1/deliveries/d1', payload: body });
    await service.schedulePending();
    fleet.pushTracking(tracking('d1', 'DeliveryHeadedToPickup', 'HeadedToPickup', 'e1'));
    fleet.pushTracking(tracking('d1', 'PackagePickedUp', 'PickedUp', 'e2'));
    fleet.pushTracking(tracking('d1', 'DeliveryHeadedToPickup', 'HeadedToPickup', 'e3'));
    await service.settled();
    const res = await app.inject({ method: 'DELETE', url: '/api/v1/deliveries/d1' });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'DLV_ERR_TOO_LATE_TO_CANCEL' });
    fleet.pushTracking(tracking('d1', 'DeliveryHeadedToDropoff', 'HeadedToDropoff', 'e4'));
    fleet.pushTracking(tracking('d1', 'DeliveryCompleted', 'Completed', 'e5'));
    await service.settled();
    const d = (await app.inject({ method: 'GET', url: '/api/v1/deliveries/d1' })).json<{ stage: string; stageHistory: { stage: string }[] }>();
    expect(d.stageHistory.map((h) => h.stage)).toEqual(['Requested', 'Scheduled', 'HeadedToPickup', 'PickedUp', 'HeadedToDropoff', 'Completed']);
    expect(fleet.assignments.get('d1')).toBeNull();
  });

  it('answers a create (202) with a status monitor that agrees with the GET at its Location, fresh or finished', async () => {
    // The Accepted schema's fields exactly, each as the GET shows it.
    const asGet = async (id: string) => {
      const d = (await app.inject({ method: 'GET', url: `/api/v1/deliveries/${id}` })).json<Record<string, unknown>>();
      expect(d.stageHistory).toBeDefined();
      return { id: d.id, stage: d.stage, correlationId: d.correlationId, createdAt: d.createdAt, trackingUrl: d.trackingUrl };
    };
    // A named owner must be a registered account (workflow/options.ts), or the saga fails it.
    expect((await app.inject({ method: 'PUT', url: '/api/v1/accounts/alice', payload: { kind: 'customer', name: 'Alice' } })).statusCode).toBe(201);
    const fresh = await app.inject({ method: 'PUT', url: '/api/v1/deliveries/d1', payload: { ...body, owner: 'alice' } });
    expect(fresh.statusCode).toBe(202);
    expect(fresh.headers.location).toBe('/api/v1/deliveries/d1');
    expect(fresh.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(fresh.json()).toEqual(await asGet('d1'));
    expect(fresh.json()).toMatchObject({ stage: 'Requested', trackingUrl: expect.stringMatching(/^\/track\/d1\?t=[\w-]{22}$/) as unknown });
    fleet.pushStatus(droneStatus({ droneId: 'drone-001', ts: now }));
    await service.schedulePending();
    fleet.pushTracking(tracking('d1', 'DeliveryCompleted', 'Completed', 'e5'));
    await service.settled();
    const repeat = await app.inject({ method: 'PUT', url: '/api/v1/deliveries/d1', payload: { ...body, owner: 'alice' } });
    expect(repeat.statusCode).toBe(202);
    const finished = repeat.json<Record<string, unknown>>();
    expect(finished).toMatchObject({ stage: 'Completed' });
    expect(finished).toEqual(await asGet('d1'));
  });

  it('PATCH moves the dropoff before take-off: a Scheduled delivery is aborted at the hub and re-planned on another drone; once airborne it is a 409', async () => {
    fleet.pushStatus(droneStatus({ droneId: 'drone-001', ts: now }));
    await app.inject({ method: 'PUT', url: '/api/v1/deliveries/d1', payload: body });
    const moved = { lat: 47.402, lon: 8.551 };
    const a = await app.inject({ method: 'PATCH', url: '/api/v1/deliveries/d1', payload: { dropoff: moved } });
    expect(a.statusCode).toBe(200);
    expect(a.json()).toMatchObject({ stage: 'Requested', dropoff: moved, pickup: body.pickup });
    await service.schedulePending();
    expect(fleet.assignments.get('d1')).toMatchObject({ action: 'fly', droneId: 'drone-001', dropoff: moved });
    const published: unknown[] = [];
    const orig = fleet.publishAssignment.bind(fleet);
    fleet.publishAssignment = (id, x) => {
      published.push(x);
      orig(id, x);
    };
    const moved2 = { lat: 47.403, lon: 8.552 };
    const b = await app.inject({ method: 'PATCH', url: '/api/v1/deliveries/d1', payload: { dropoff: moved2 } });
    expect(b.statusCode).toBe(200);
    expect(b.json()).toMatchObject({ stage: 'Requested', droneId: null, eta: null, dropoff: moved2 });
    // The hub aborts the mission it holds (fleet-hub ignores a second 'fly' for the same delivery and drone).
    expect(published).toMatchObject([{ action: 'abort', droneId: 'drone-001' }, null]);
    // The drone is free, but not for this delivery again (its agent has run this mission's command id).
    expect(await service.schedulePending()).toBe(0);
    fleet.pushStatus(droneStatus({ droneId: 'drone-002', ts: now }));
    expect(await service.schedulePending()).toBe(1);
    expect(fleet.assignments.get('d1')).toMatchObject({ action: 'fly', droneId: 'drone-002', dropoff: moved2 });
    // Late events of the drone the delivery was taken from do not move it.
    fleet.pushTracking({ ...tracking('d1', 'DeliveryHeadedToPickup', 'HeadedToPickup', 'old-1'), droneId: 'drone-001' });
    await service.settled();
    const got = (await app.inject({ method: 'GET', url: '/api/v1/deliveries/d1' })).json<{ stage: string; droneId: string; stageHistory: { stage: string }[] }>();
    expect(got).toMatchObject({ stage: 'Scheduled', droneId: 'drone-002' });
    expect(got.stageHistory.map((h) => h.stage)).toEqual(['Requested', 'Scheduled', 'Requested', 'Scheduled']);
    fleet.pushTracking({ ...tracking('d1', 'DeliveryHeadedToPickup', 'HeadedToPickup', 'e1'), droneId: 'drone-002' });
    await service.settled();
    const late = await app.inject({ method: 'PATCH', url: '/api/v1/deliveries/d1', payload: { dropoff: body.dropoff } });
    expect(late.statusCode).toBe(409);
    expect(late.json()).toMatchObject({ code: 'DLV_ERR_TOO_LATE_TO_RESCHEDULE' });
    expect((await app.inject({ method: 'PATCH', url: '/api/v1/deliveries/d1', payload: {} })).statusCode).toBe(400);
  });

  it('cancel before pickup aborts the mission through the hub', async () => {
    fleet.pushStatus(droneStatus({ droneId: 'drone-001', ts: now }));
    await app.inject({ method: 'PUT', url: '/api/v1/deliveries/d1', payload: body });
    await service.schedulePending();
    const published: unknown[] = [];
    const orig = fleet.publishAssignment.bind(fleet);
    fleet.publishAssignment = (id, a) => {
      published.push(a);
      orig(id, a);
    };
    const res = await app.inject({ method: 'DELETE', url: '/api/v1/deliveries/d1' });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ stage: 'Cancelled' });
    expect(published[0]).toMatchObject({ action: 'abort', droneId: 'drone-001' });
    expect((await app.inject({ method: 'DELETE', url: '/api/v1/deliveries/d1' })).statusCode).toBe(202);
  });
});
