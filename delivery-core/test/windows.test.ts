import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { DeliveryAssignment, DeliveryTracking, LatLon } from '@aerie/contracts';
import { DeliveryService, MemoryFleetLink, buildHttp, coreConfig } from '../src/index.js';
import type { CoreConfig } from '../src/config.js';
import type { OutboxEvent } from '../src/domain/outbox.js';
import { droneStatus } from '../../test-support/fixtures.js';
import { httpStores, stopCore, type OpenStore, type StoreKind } from './http-stores.js';

// Issue 7: pickup windows and deadlines on the request, honoured by the assignment; PATCH of the
// window; re-optimisation of every pair not yet committed (dispatched), and never after.
let now = 1_700_000_000_000;
const clock = { now: () => now, setTimeout: () => 0, clearTimeout: () => undefined, setInterval: () => 0, clearInterval: () => undefined };
const pickup: LatLon = { lat: 47.399, lon: 8.547 };
const dropoff: LatLon = { lat: 47.409, lon: 8.547 };
const iso = (ms: number) => new Date(ms).toISOString();
const MIN = 60_000;

let fleet: MemoryFleetLink;
let service: DeliveryService;
let app: FastifyInstance;
const seqs = new Map<string, number>();
// Issue 7: the same suite on memory, a SQLite file and Debian's PostgreSQL (a database per test).
const kinds = ['memory', 'sqlite', 'postgres'] as const;
const stores = httpStores(kinds);
let store: OpenStore | null = null;

/** A fresh status of an idle drone `north` degrees of latitude from the pickup. */
function seen(droneId: string, north: number, pct = 95): void {
  const seq = (seqs.get(droneId) ?? 0) + 1;
  seqs.set(droneId, seq);
  fleet.pushStatus(droneStatus({ droneId, seq, ts: now, battery: { pct, voltage: 16, current: 0 }, position: { lat: pickup.lat - north, lon: pickup.lon, altMsl: 488, altRel: 0 } }));
}

/** A core on a fresh store of this kind (the one before, if any, stopped and closed first). */
async function setup(kind: StoreKind, scheduling: Partial<CoreConfig['scheduling']> = { holdMs: 0 }, more: Parameters<typeof coreConfig>[0] = {}): Promise<void> {
  await teardown();
  fleet = new MemoryFleetLink();
  store = await stores.fresh(kind);
  service = new DeliveryService(store.repo, fleet, coreConfig({ dbPath: ':memory:', ...more, scheduling }), clock, store.records);
  app = buildHttp(service);
}

async function teardown(): Promise<void> {
  if (!store) return;
  await stopCore(service, app, store);
  store = null;
}

const put = (id: string, payload: object) => app.inject({ method: 'PUT', url: `/api/v1/deliveries/${id}`, payload });
const get = async (id: string) => (await app.inject({ method: 'GET', url: `/api/v1/deliveries/${id}` })).json<Record<string, unknown>>();
const patch = (id: string, payload: object) => app.inject({ method: 'PATCH', url: `/api/v1/deliveries/${id}`, payload });

describe.each(kinds)('on %s', (kind) => {
  beforeEach(async () => {
    now = 1_700_000_000_000;
    seqs.clear();
    await setup(kind);
  });
  afterEach(teardown);

  describe('delivery windows on the request', () => {
    it('stores the pickup window and deadline, shows them on the GET, and compares them for idempotency', async () => {
      const body = { pickup, dropoff, pickupWindow: { start: iso(now + 10 * MIN), end: iso(now + 20 * MIN) }, deadline: iso(now + 40 * MIN) };
      const first = await put('w1', body);
      expect(first.statusCode).toBe(202);
      const asGet = await get('w1');
      expect(asGet).toMatchObject({ pickupWindow: body.pickupWindow, deadline: body.deadline });
      expect(first.json()).toMatchObject({ id: 'w1', stage: 'Requested', createdAt: asGet.createdAt });
      expect((await put('w1', body)).statusCode).toBe(202);
      const other = await put('w1', { ...body, deadline: iso(now + 41 * MIN) });
      expect(other.statusCode).toBe(409);
      expect(other.json()).toMatchObject({ code: 'DLV_ERR_ID_CONFLICT' });
      expect((await put('w1', { pickup, dropoff })).json()).toMatchObject({ code: 'DLV_ERR_ID_CONFLICT' });
      // Without a window: both null.
      expect((await put('w2', { pickup, dropoff })).statusCode).toBe(202);
      expect(await get('w2')).toMatchObject({ pickupWindow: null, deadline: null });
      // POST under an Idempotency-Key: the same key with another window is a reuse.
      const post = (payload: object) => app.inject({ method: 'POST', url: '/api/v1/deliveries', payload, headers: { 'idempotency-key': 'k1' } });
      expect((await post(body)).statusCode).toBe(202);
      expect((await post({ ...body, pickupWindow: { start: body.pickupWindow.start } })).json()).toMatchObject({ code: 'DLV_ERR_IDEMPOTENCY_KEY_REUSED' });
    });

    it('refuses inconsistent, past and unreachable windows with stable codes; a retry after the window passed still answers', async () => {
      const cases: [object, number, string][] = [
        [{ pickupWindow: { start: iso(now + 20 * MIN), end: iso(now + 10 * MIN) } }, 400, 'DLV_ERR_WINDOW_INVALID'],
        [{ pickupWindow: { start: iso(now + 20 * MIN) }, deadline: iso(now + 19 * MIN) }, 400, 'DLV_ERR_WINDOW_INVALID'],
        [{ pickupWindow: { end: iso(now - MIN) } }, 422, 'DLV_ERR_WINDOW_PAST'],
        [{ deadline: iso(now - 1000) }, 422, 'DLV_ERR_WINDOW_PAST'],
        // 1.1 km: not even a drone waiting at the pickup lands at the dropoff within 30 s.
        [{ deadline: iso(now + 30_000) }, 422, 'DLV_ERR_DEADLINE_UNREACHABLE'],
        [{ deadline: 'tomorrow' }, 400, 'DLV_ERR_VALIDATION'],
        [{ pickupWindow: {} }, 400, 'DLV_ERR_VALIDATION'],
        [{ pickupWindow: { start: iso(now), until: iso(now) } }, 400, 'DLV_ERR_VALIDATION'],
      ];
      for (const [extra, status, code] of cases) {
        const res = await put('bad', { pickup, dropoff, ...extra });
        expect(res.statusCode, JSON.stringify(extra)).toBe(status);
        expect(res.headers['content-type']).toContain('application/problem+json');
        expect(res.json()).toMatchObject({ code, status });
      }
      expect((await get('bad')).code).toBe('DLV_ERR_NOT_FOUND');
      const body = { pickup, dropoff, deadline: iso(now + 30 * MIN) };
      expect((await put('late', body)).statusCode).toBe(202);
      now += 31 * MIN;
      const retry = await put('late', body);
      expect(retry.statusCode).toBe(202);
      expect(retry.json()).toMatchObject({ id: 'late' });
      expect(await get('late')).toMatchObject({ deadline: body.deadline });
    });

    it('documents the request fields and the PATCH body in /api/docs', async () => {
      type Op = { requestBody: { content: { 'application/json': { schema: { properties: Record<string, unknown> } } } } };
      const doc = (await app.inject({ method: 'GET', url: '/api/docs' })).json<{ paths: Record<string, Record<string, Op>> }>();
      for (const op of [doc.paths['/api/v1/deliveries/{id}']!.put!, doc.paths['/api/v1/deliveries']!.post!, doc.paths['/api/v1/deliveries/{id}']!.patch!]) {
        const props = op.requestBody.content['application/json'].schema.properties;
        expect(props.pickupWindow).toMatchObject({ properties: { start: { format: 'date-time' }, end: { format: 'date-time' } } });
        expect(props.deadline).toMatchObject({ format: 'date-time' });
      }
    });
  });

  describe('assignment honours the deadline', () => {
    it('does not give a delivery to a drone that would miss its deadline; one no drone can meet fails with the reason', async () => {
      // ~3.3 km away: about 5 minutes more than a drone at the pickup.
      seen('far', 0.03);
      seen('near', 0.001, 10);
      const deadline = now + Math.round(service.fastestS(pickup, dropoff) * 1000) + 2 * MIN;
      expect((await put('d1', { pickup, dropoff, deadline: iso(deadline) })).statusCode).toBe(202);
      await service.workflow.supervisor.tick();
      expect(await service.schedulePending()).toBe(0);
      expect(service.explanations.get('d1')).toMatchObject({ droneId: null, rejected: { deadline: 1 } });
      expect(service.explanations.get('d1')!.alternatives.map((a) => [a.droneId, a.why])).toContainEqual(['far', 'deadline']);
      // The near drone charged: it makes it.
      now += 10_000;
      seen('near', 0.001);
      seen('far', 0.03);
      expect(await service.schedulePending()).toBe(1);
      expect(await get('d1')).toMatchObject({ stage: 'Scheduled', droneId: 'near' });

      // Another one nobody can make any more: failed by its saga with the reason, not left waiting.
      const tight = now + Math.round(service.fastestS(pickup, dropoff) * 1000) + 30_000;
      expect((await put('d2', { pickup, dropoff, deadline: iso(tight) })).statusCode).toBe(202);
      await service.workflow.supervisor.tick();
      expect(await get('d2')).toMatchObject({ stage: 'Requested' });
      now += 60_000;
      await service.workflow.supervisor.tick();
      const failed = await get('d2');
      expect(failed).toMatchObject({ stage: 'Failed' });
      expect(failed.failureReason).toMatch(/^DLV_SAGA_WINDOW_MISSED: deadline .* cannot be met/);
    });

    it('fails a delivery whose pickup window closed before any drone could take it', async () => {
      expect((await put('d1', { pickup, dropoff, pickupWindow: { end: iso(now + 5 * MIN) } })).statusCode).toBe(202);
      await service.workflow.supervisor.tick();
      now += 6 * MIN;
      await service.workflow.supervisor.tick();
      expect(await get('d1')).toMatchObject({ stage: 'Failed', failureReason: expect.stringMatching(/^DLV_SAGA_WINDOW_MISSED: pickup window closed/) as unknown });
    });
  });

  describe('re-optimisation until commit', () => {
    it('a future pickup window keeps the pair tentative: a better drone replaces a worse one, it is dispatched when it has to leave, and a committed pair never moves', async () => {
      const start = now + 20 * MIN;
      expect((await put('w', { pickup, dropoff, pickupWindow: { start: iso(start), end: iso(start + 10 * MIN) } })).statusCode).toBe(202);
      seen('far', 0.03);
      expect(await service.schedulePending()).toBe(0);
      const first = service.explanations.get('w')!;
      expect(first).toMatchObject({ droneId: 'far', state: 'tentative' });
      expect(first.launchAt).toBeGreaterThan(now);
      expect(fleet.assignments.get('w')).toBeUndefined();
      expect(await get('w')).toMatchObject({ stage: 'Requested', droneId: null });

      // A nearer drone comes free before launch: it takes over.
      now += 5 * MIN;
      seen('far', 0.03);
      seen('near', 0.01);
      expect(await service.schedulePending()).toBe(0);
      const second = service.explanations.get('w')!;
      expect(second).toMatchObject({ droneId: 'near', state: 'tentative', kept: false, runnerUp: { droneId: 'far' } });

      // Its launch time: committed (dispatched), and the ETA counts the wait for the window.
      now = second.launchAt!;
      seen('far', 0.03);
      seen('near', 0.01);
      expect(await service.schedulePending()).toBe(1);
      const scheduled = await get('w');
      expect(scheduled).toMatchObject({ stage: 'Scheduled', droneId: 'near' });
      expect(scheduled.etaEpochMs as number).toBeGreaterThan(start + service.fastestS(pickup, dropoff) * 1000 - 1000);
      expect(fleet.assignments.get('w')).toMatchObject({ action: 'fly', droneId: 'near' });

      // An even better drone afterwards: the committed pair stays (the hub has started the mission).
      now += 1000;
      seen('at-pickup', 0);
      seen('far', 0.03);
      expect(await service.schedulePending()).toBe(0);
      expect(await get('w')).toMatchObject({ stage: 'Scheduled', droneId: 'near' });
      expect(fleet.assignments.get('w')).toMatchObject({ droneId: 'near' });
      expect(service.explanations.get('w')).toMatchObject({ droneId: 'near', state: 'committed' });
    });

    it('holds for 2 s by default (one value, config.ts): the first pass only plans, a pass 2 s later commits', async () => {
      await setup(kind, {});
      expect(coreConfig().scheduling.holdMs).toBe(2000);
      seen('a', 0.01);
      await put('x', { pickup, dropoff });
      expect(await service.schedulePending()).toBe(0);
      expect(service.explanations.get('x')).toMatchObject({ droneId: 'a', state: 'tentative' });
      now += 2000;
      seen('a', 0.01);
      expect(await service.schedulePending()).toBe(1);
    });
  });

  describe('PATCH reschedule with a window', () => {
    it('changes or clears the window before take-off, refuses bad ones, and is a 409 with a code after pickup', async () => {
      await put('p', { pickup, dropoff, deadline: iso(now + 60 * MIN) });
      const w = { start: iso(now + 10 * MIN), end: iso(now + 15 * MIN) };
      const a = await patch('p', { pickupWindow: w });
      expect(a.statusCode).toBe(200);
      expect(a.json()).toMatchObject({ stage: 'Requested', pickupWindow: w, deadline: iso(now + 60 * MIN) });
      expect((await patch('p', { deadline: null })).json()).toMatchObject({ pickupWindow: w, deadline: null });
      expect((await patch('p', { pickupWindow: { start: iso(now + 20 * MIN), end: iso(now + 19 * MIN) } })).json()).toMatchObject({ code: 'DLV_ERR_WINDOW_INVALID', status: 400 });
      expect((await patch('p', { pickupWindow: { end: iso(now - 1) } })).json()).toMatchObject({ code: 'DLV_ERR_WINDOW_PAST', status: 422 });
      expect((await patch('p', { pickupWindow: null })).json()).toMatchObject({ pickupWindow: null, deadline: null });
      expect((await get('p')).pickupWindow).toBeNull();

      seen('d', 0.01);
      expect(await service.schedulePending()).toBe(1);
      const track = (type: DeliveryTracking['type'], stage: DeliveryTracking['stage']): DeliveryTracking =>
        ({ v: 1, eventId: `p:${stage}`, type, deliveryId: 'p', droneId: 'd', stage, ts: now, location: null, eta: null });
      fleet.pushTracking(track('DeliveryHeadedToPickup', 'HeadedToPickup'));
      fleet.pushTracking(track('PackagePickedUp', 'PickedUp'));
      await service.settled();
      const late = await patch('p', { pickupWindow: w });
      expect(late.statusCode).toBe(409);
      expect(late.json()).toMatchObject({ code: 'DLV_ERR_TOO_LATE_TO_RESCHEDULE' });
    });

    it('a Scheduled delivery goes back through its saga: drone released, hub told to abort, DeliveryRescheduled out, then on another drone, never two deliveries on one', async () => {
      const events: OutboxEvent[] = [];
      service.workflow.onEvent((e) => void events.push(e));
      const published: [string, DeliveryAssignment | null][] = [];
      const orig = fleet.publishAssignment.bind(fleet);
      fleet.publishAssignment = (id, x) => {
        published.push([id, x]);
        orig(id, x);
      };
      seen('a', 0.01);
      seen('b', 0.02);
      await put('r', { pickup, dropoff });
      await put('other', { pickup: { lat: 47.37, lon: 8.547 }, dropoff });
      expect(await service.schedulePending()).toBe(2);
      expect(await get('r')).toMatchObject({ droneId: 'a' });
      const reserved = await service.workflow.reserved();
      expect(reserved.drones).toEqual(new Set(['a', 'b']));

      published.length = 0;
      const newWindow = { start: iso(now + MIN), end: iso(now + 30 * MIN) };
      const res = await patch('r', { pickupWindow: newWindow });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ stage: 'Requested', droneId: null, pickupWindow: newWindow });
      expect(published).toMatchObject([['r', { action: 'abort', droneId: 'a' }], ['r', null]]);
      expect((await service.workflow.reserved()).drones).toEqual(new Set(['b']));
      await service.workflow.relay.drain();
      expect(events.filter((e) => e.aggregateId === 'r').map((e) => e.type)).toEqual(['DeliveryScheduled', 'DeliveryRescheduled']);

      // 'a' is free but not for 'r' again; 'b' flies 'other': nothing to give 'r' yet.
      now += 2 * MIN;
      seen('a', 0.01);
      seen('b', 0.02);
      expect(await service.schedulePending()).toBe(0);
      expect(service.explanations.get('r')).toMatchObject({ droneId: null, rejected: { rescheduled: 1 } });
      seen('c', 0.015);
      expect(await service.schedulePending()).toBe(1);
      expect(await get('r')).toMatchObject({ stage: 'Scheduled', droneId: 'c' });
      expect(fleet.assignments.get('r')).toMatchObject({ action: 'fly', droneId: 'c' });
      await service.workflow.relay.drain();
      expect(events.filter((e) => e.aggregateId === 'r').map((e) => e.id)).toEqual(['r:scheduled', expect.stringMatching(/^r:rescheduled:/), 'r:scheduled:1']);
      const active = await service.list({ stages: ['Scheduled'] }, 10);
      expect(new Set(active.map((d) => d.droneId)).size).toBe(active.length);
    });
  });

  describe('tracking that overtakes the saga', () => {
    it('names the flying drone on a delivery that has none yet, so the store refuses it a second active delivery', async () => {
      await put('o1', { pickup, dropoff });
      await put('o2', { pickup, dropoff });
      const ev = (deliveryId: string, stage: 'Scheduled' | 'HeadedToPickup', type: DeliveryTracking['type']): DeliveryTracking =>
        ({ v: 1, eventId: `${deliveryId}:${stage}`, type, deliveryId, droneId: 'dx', stage, ts: now, location: null, eta: null });
      fleet.pushTracking(ev('o1', 'Scheduled', 'DeliveryAssigned'));
      await service.settled();
      expect(await get('o1')).toMatchObject({ stage: 'Scheduled', droneId: null });
      fleet.pushTracking(ev('o1', 'HeadedToPickup', 'DeliveryHeadedToPickup'));
      fleet.pushTracking(ev('o2', 'HeadedToPickup', 'DeliveryHeadedToPickup'));
      await service.settled();
      expect(await get('o1')).toMatchObject({ stage: 'HeadedToPickup', droneId: 'dx' });
      expect(await get('o2')).toMatchObject({ stage: 'Requested', droneId: null });
    });
  });

  describe('the scheduler horizon', () => {
    it('a backlog of windows far ahead does not hold a newer request out of a small batch', async () => {
      await setup(kind, { holdMs: 0 }, { scheduleBatchMax: 2 });
      for (const id of ['f1', 'f2', 'f3']) {
        expect((await put(id, { pickup, dropoff, pickupWindow: { start: iso(now + 3 * 60 * MIN) } })).statusCode).toBe(202);
        now += 1;
      }
      expect((await put('soon', { pickup, dropoff })).statusCode).toBe(202);
      seen('a', 0.01);
      expect(await service.schedulePending()).toBe(1);
      expect(await get('soon')).toMatchObject({ stage: 'Scheduled', droneId: 'a' });
      expect(service.explanations.has('f1')).toBe(false);
    });
  });
});
