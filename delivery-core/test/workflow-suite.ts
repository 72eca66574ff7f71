import { describe, expect, it } from 'vitest';
import type { DeliveryAssignment } from '@aerie/contracts';
import type { Delivery, DeliveryRepository } from '../src/index.js';
import { PermanentError, TransientError } from '../src/domain/saga-errors.js';
import type { OutboxEvent } from '../src/domain/outbox.js';
import { DeliveryWorkflow } from '../src/workflow/delivery-workflow.js';
import type { HubAnswer, MissionHub, WorkflowStore } from '../src/workflow/ports.js';
import { FleetMissionHub } from '../src/workflow/fleet-mission-hub.js';
import { MemoryFleetLink } from '../src/adapters/memory-fleet-link.js';
import { ManualClock, driveUntil } from './workflow-helpers.js';

/** One database: `open` gives a fresh pair of handles on it, as a restarted process would get. */
export interface Backend {
  open(): Promise<{ deliveries: DeliveryRepository; store: WorkflowStore }>;
  /** Drops the database after the test. */
  dispose(): Promise<void>;
  /**
   * Whether two live handles on the database are a deployment to test (PostgreSQL: two
   * instances). The embedded SQLite store is one process's: two instances share its connection.
   */
  concurrentHandles?: boolean;
}

/** A hub whose answers the test scripts; it records what reached it. */
export class ScriptedHub implements MissionHub {
  readonly dispatched: DeliveryAssignment[] = [];
  readonly aborted: DeliveryAssignment[] = [];
  failures: (() => Error)[] = [];
  /** The hub's answer per delivery; a dispatched one without an entry is accepted. */
  readonly answers = new Map<string, HubAnswer | null>();
  log: string[] = [];
  dispatch(a: DeliveryAssignment): Promise<void> {
    const fail = this.failures.shift();
    if (fail) return Promise.reject(fail());
    this.dispatched.push(a);
    return Promise.resolve();
  }
  answer({ deliveryId }: DeliveryAssignment): Promise<HubAnswer | null> {
    if (this.answers.has(deliveryId)) return Promise.resolve(this.answers.get(deliveryId) ?? null);
    return Promise.resolve(this.dispatched.some((a) => a.deliveryId === deliveryId) ? { outcome: 'accepted' } : null);
  }
  abort(a: DeliveryAssignment): Promise<void> {
    this.aborted.push(a);
    this.log.push(`abort ${a.deliveryId}`);
    return Promise.resolve();
  }
}

const pickup = { lat: 47.399, lon: 8.547 };
const dropoff = { lat: 47.401, lon: 8.55 };

export function newRequested(id: string, owner: string | null, createdAt: number): Delivery {
  return {
    id, owner, pickup, dropoff, stage: 'Requested', droneId: null, eta: null, lastPosition: null, correlationId: `corr-${id}`,
    createdAt, updatedAt: createdAt, failureReason: null, etaAtDispatch: null, etaAtHalfway: null,
    window: { pickupFrom: null, pickupBy: null, deadline: null }, route: null, abortedDroneId: null,
  };
}

function makeWorkflow(h: { deliveries: DeliveryRepository; store: WorkflowStore }, hub: MissionHub, clock: ManualClock, log: string[] = []) {
  const store = new Proxy(h.store, {
    get(obj, prop) {
      const v = Reflect.get(obj, prop) as (...a: unknown[]) => unknown;
      if (prop === 'releaseDrone' || prop === 'unbindPackage') return (...a: unknown[]) => { log.push(`${String(prop)} ${String(a[1])}`); return v.apply(obj, a); };
      return typeof v === 'function' ? v.bind(obj) : v;
    },
  });
  return new DeliveryWorkflow({
    deliveries: h.deliveries, store, hub, clock, random: () => 0.5,
    limits: { maxPayloadKg: 2.5, maxRangeM: 20_000, defaultPackageKg: 1 },
    assignmentOf: (d, droneId, action) => ({
      v: 1, deliveryId: d.id, droneId, ts: clock.now(), correlationId: d.correlationId, action, pickup: d.pickup, dropoff: d.dropoff, cruiseAltM: 30, groundDelayS: 5,
    }),
    options: {
      requireRegisteredAccount: true, hubRetry: { attempts: 2, baseMs: 100, capMs: 100 }, hubBreaker: { failureThreshold: 3, openMs: 10_000 }, sagaBackoff: { baseMs: 1000, capMs: 4000 },
      hubReplyTimeoutMs: 5000,
    },
  });
}

/** The saga's behaviour, the same on every backend (STYLE.md: one behaviour suite per variant). */
export function workflowSuite(name: string, backend: () => Promise<Backend>): void {
  describe(`delivery saga: ${name}`, () => {
    const setup = async () => {
      const db = await backend();
      const h = await db.open();
      const clock = new ManualClock();
      const hub = new ScriptedHub();
      const log = hub.log;
      const wf = makeWorkflow(h, hub, clock, log);
      const events: OutboxEvent[] = [];
      wf.onEvent((e) => { events.push(e); });
      const done = async () => {
        await wf.stop();
        await h.deliveries.close();
        await h.store.close();
        await db.dispose();
      };
      return { db, h, clock, hub, log, wf, events, done };
    };

    it('runs check-account, create-package, waits for the scheduler, then reserves, dispatches and schedules; one event out', async () => {
      const { h, clock, hub, wf, events, done } = await setup();
      try {
        await h.store.insertAccount({ id: 'shop-1', kind: 'business', name: 'Shop', businessId: null, status: 'active', createdAt: clock.now() });
        await h.deliveries.insert(newRequested('d1', 'shop-1', clock.now()), { stage: 'Requested', at: clock.now(), eventId: 'd1:requested' });
        expect(await wf.begin('d1')).toMatchObject({ status: 'running', step: 2, data: { owner: 'shop-1', packageId: 'pkg-d1', weightKg: 1 } });
        expect(await wf.propose('d1', 'drone-7', clock.now() + 60_000)).toBe(true);
        expect(await h.deliveries.get('d1')).toMatchObject({ stage: 'Scheduled', droneId: 'drone-7', eta: clock.now() + 60_000 });
        expect(hub.dispatched.map((a) => [a.deliveryId, a.droneId, a.action])).toEqual([['d1', 'drone-7', 'fly']]);
        expect(await h.store.getPackage('pkg-d1')).toMatchObject({ owner: 'shop-1', deliveryId: 'd1' });
        expect(await h.store.reservations()).toEqual([{ droneId: 'drone-7', holder: 'd1' }]);
        expect(await wf.relay.drain()).toBe(1);
        expect(events.map((e) => [e.id, e.type])).toEqual([['d1:scheduled', 'DeliveryScheduled']]);
        await wf.stageChanged({ ...(await h.deliveries.get('d1'))!, stage: 'Completed' });
        expect(await h.store.reservations()).toEqual([]);
      } finally {
        await done();
      }
    });

    it('an unknown (when registration is required) or suspended account fails the saga at once: delivery Failed with the code, customer notified', async () => {
      const { h, clock, wf, events, done } = await setup();
      try {
        await h.store.insertAccount({ id: 'gone', kind: 'customer', name: 'Gone', businessId: null, status: 'suspended', createdAt: clock.now() });
        for (const [id, owner] of [['u1', 'nobody'], ['u2', 'gone']] as const) {
          await h.deliveries.insert(newRequested(id, owner, clock.now()), { stage: 'Requested', at: clock.now(), eventId: `${id}:requested` });
          await wf.begin(id);
        }
        expect(await h.deliveries.get('u1')).toMatchObject({ stage: 'Failed', failureReason: expect.stringMatching(/^DLV_SAGA_ACCOUNT_UNKNOWN: /) as unknown });
        expect(await h.deliveries.get('u2')).toMatchObject({ stage: 'Failed', failureReason: expect.stringMatching(/^DLV_SAGA_ACCOUNT_SUSPENDED: /) as unknown });
        await wf.relay.drain();
        expect(events.map((e) => [e.type, (e.payload as { code: string }).code])).toEqual([['DeliveryFailed', 'DLV_SAGA_ACCOUNT_UNKNOWN'], ['DeliveryFailed', 'DLV_SAGA_ACCOUNT_SUSPENDED']]);
      } finally {
        await done();
      }
    });

    it('no drone can ever carry it: compensations run in reverse (package unbound), Failed with a reason and a notification', async () => {
      const { h, clock, wf, events, log, done } = await setup();
      try {
        await h.store.insertPackage({ id: 'piano', owner: null, size: 'large', weightKg: 40, tag: 'PIANO-1', deliveryId: 'd1', createdAt: clock.now() });
        await h.deliveries.insert(newRequested('d1', null, clock.now()), { stage: 'Requested', at: clock.now(), eventId: 'd1:requested' });
        expect(await wf.begin('d1')).toMatchObject({ status: 'failed', error: { step: 'reserve-drone', code: 'DLV_SAGA_NO_DRONE_FITS' } });
        expect(log).toEqual(['unbindPackage d1']);
        expect(await h.store.getPackage('piano')).toMatchObject({ deliveryId: null });
        expect(await h.deliveries.get('d1')).toMatchObject({ stage: 'Failed', failureReason: 'DLV_SAGA_NO_DRONE_FITS: package 40 kg > payload limit 2.5 kg' });
        await wf.relay.drain();
        expect(events).toMatchObject([{ id: 'd1:failed', type: 'DeliveryFailed', payload: { deliveryId: 'd1', code: 'DLV_SAGA_NO_DRONE_FITS', step: 'reserve-drone' } }]);
      } finally {
        await done();
      }
    });

    it('the hub rejects the mission: abort, release the drone, unbind the package — in that order — then Failed', async () => {
      const { h, clock, hub, wf, events, log, done } = await setup();
      try {
        await h.deliveries.insert(newRequested('d1', null, clock.now()), { stage: 'Requested', at: clock.now(), eventId: 'd1:requested' });
        hub.failures.push(() => new PermanentError('DLV_SAGA_MISSION_REJECTED', 'geofence violation'));
        expect(await wf.propose('d1', 'drone-7', clock.now() + 1000)).toBe(false);
        expect(log).toEqual(['abort d1', 'releaseDrone d1', 'unbindPackage d1']);
        expect(await h.store.reservations()).toEqual([]);
        expect(await h.deliveries.get('d1')).toMatchObject({ stage: 'Failed', droneId: null, failureReason: 'DLV_SAGA_MISSION_REJECTED: geofence violation' });
        expect((await h.deliveries.history('d1')).map((c) => c.stage)).toEqual(['Requested', 'Failed']);
        expect(wf.hubBreaker.current()).toBe('closed');
        await wf.relay.drain();
        expect(events.map((e) => e.type)).toEqual(['DeliveryFailed']);
      } finally {
        await done();
      }
    });

    it('the hub refuses the dispatch (DispatchReply): abort with reason failed, release the drone, unbind the package, Failed with the reason, notified', async () => {
      const { h, clock, hub, wf, events, log, done } = await setup();
      try {
        await h.deliveries.insert(newRequested('d1', null, clock.now()), { stage: 'Requested', at: clock.now(), eventId: 'd1:requested' });
        hub.answers.set('d1', { outcome: 'refused', reason: 'mission_rejected', detail: 'AGENT_ERR_FC_REJECTED: arm refused', mavResult: 'MAV_RESULT_FAILED' });
        expect(await wf.propose('d1', 'drone-7', clock.now() + 1000)).toBe(false);
        expect(hub.dispatched.map((a) => a.deliveryId)).toEqual(['d1']);
        expect(log).toEqual(['abort d1', 'releaseDrone d1', 'unbindPackage d1']);
        expect(hub.aborted[0]).toMatchObject({ action: 'abort', abortReason: 'failed', droneId: 'drone-7', correlationId: 'corr-d1' });
        expect(await h.store.reservations()).toEqual([]);
        expect(await h.deliveries.get('d1')).toMatchObject({
          stage: 'Failed', failureReason: 'DLV_SAGA_MISSION_REJECTED: mission_rejected: AGENT_ERR_FC_REJECTED: arm refused (MAV_RESULT_FAILED)',
        });
        expect(await h.store.getSaga('d1')).toMatchObject({ status: 'failed', error: { step: 'await-hub-answer', code: 'DLV_SAGA_MISSION_REJECTED' } });
        await wf.relay.drain();
        expect(events).toMatchObject([{ type: 'DeliveryFailed', payload: { code: 'DLV_SAGA_MISSION_REJECTED', step: 'await-hub-answer' } }]);
      } finally {
        await done();
      }
    });

    it('waits for the hub\'s answer without holding the runner; the answer wakes the saga; a restart mid-wait resends on timeout and resumes', async () => {
      const { db, h, clock, done } = await setup();
      try {
        // The hub over a fleet link whose hub has not answered (yet).
        const link = new MemoryFleetLink(() => null);
        const first = makeWorkflow(h, new FleetMissionHub(link, clock), clock);
        await h.deliveries.insert(newRequested('d1', null, clock.now()), { stage: 'Requested', at: clock.now(), eventId: 'd1:requested' });
        await h.deliveries.insert(newRequested('d2', null, clock.now()), { stage: 'Requested', at: clock.now(), eventId: 'd2:requested' });
        expect(await first.propose('d1', 'drone-1', clock.now() + 60_000)).toBe(false);
        expect(await h.store.getSaga('d1')).toMatchObject({ status: 'running', step: 4, error: null, nextAttemptAt: clock.now() + 5000 });
        expect(link.assignments.get('d1')).toMatchObject({ action: 'fly', droneId: 'drone-1' });
        expect(await h.deliveries.get('d1')).toMatchObject({ stage: 'Requested' });
        // The answer comes a second later: the saga goes on at once, not at its next try.
        await clock.advance(1000);
        link.pushReply({ v: 1, deliveryId: 'd1', droneId: 'drone-1', ts: clock.now(), commandId: 'mission-d1', outcome: 'accepted' });
        await driveUntil(clock, first.runner.idle());
        expect(await h.deliveries.get('d1')).toMatchObject({ stage: 'Scheduled', droneId: 'drone-1' });

        // d2 is dispatched, and the core dies before any answer.
        expect(await first.propose('d2', 'drone-2', clock.now() + 60_000)).toBe(false);
        await first.stop();
        await h.deliveries.close();
        await h.store.close();
        const again = await db.open();
        h.deliveries = again.deliveries;
        h.store = again.store;
        const sent: string[] = [];
        const link2 = new MemoryFleetLink((a) => {
          sent.push(a.deliveryId);
          return null;
        });
        const second = makeWorkflow(again, new FleetMissionHub(link2, clock), clock);
        await clock.advance(6000);
        // Past the deadline: the restarted Supervisor sends the assignment again (retried in process), then backs off durably.
        await driveUntil(clock, second.start());
        expect(sent.filter((id) => id === 'd2').length).toBeGreaterThanOrEqual(1);
        expect(await again.store.getSaga('d2')).toMatchObject({ status: 'running', step: 4, attempts: 2 });
        expect(await again.store.reservations()).toContainEqual({ droneId: 'drone-2', holder: 'd2' });
        // The hub answers the re-sent assignment: the saga completes, once.
        link2.pushReply({ v: 1, deliveryId: 'd2', droneId: 'drone-2', ts: clock.now(), commandId: 'mission-d2', outcome: 'accepted' });
        link2.pushReply({ v: 1, deliveryId: 'd2', droneId: 'drone-2', ts: clock.now(), commandId: 'mission-d2', outcome: 'accepted' });
        await driveUntil(clock, second.runner.idle());
        expect(await again.store.getSaga('d2')).toMatchObject({ status: 'completed' });
        expect((await again.deliveries.history('d2')).map((c) => c.stage)).toEqual(['Requested', 'Scheduled']);
        await second.stop();
      } finally {
        await done();
      }
    });

    it('transient hub failures retry, the breaker opens after N and half-opens after its delay, then the saga completes', async () => {
      const { h, clock, hub, wf, done } = await setup();
      try {
        await h.deliveries.insert(newRequested('d1', null, clock.now()), { stage: 'Requested', at: clock.now(), eventId: 'd1:requested' });
        // One failure is absorbed by the in-process retry.
        hub.failures.push(() => new TransientError('HUB_DOWN', 'ECONNREFUSED'));
        expect(await driveUntil(clock, wf.propose('d1', 'drone-7', clock.now() + 1000))).toBe(true);
        await h.deliveries.insert(newRequested('d2', null, clock.now()), { stage: 'Requested', at: clock.now(), eventId: 'd2:requested' });
        for (let k = 0; k < 3; k++) hub.failures.push(() => new TransientError('HUB_DOWN', 'ECONNREFUSED'));
        expect(await driveUntil(clock, wf.propose('d2', 'drone-8', clock.now() + 1000))).toBe(false);
        // Two tries failed in-process; the saga backs off durably, holding its drone.
        expect(await h.store.getSaga('d2')).toMatchObject({ status: 'running', step: 3, attempts: 1 });
        expect(await h.store.reservations()).toContainEqual({ droneId: 'drone-8', holder: 'd2' });
        await clock.advance(1000);
        // The supervisor's next try fails a third time: the circuit opens, and the retry after fails fast.
        await driveUntil(clock, wf.supervisor.tick());
        expect(wf.hubBreaker.current()).toBe('open');
        expect(wf.hubBreaker.stats.opened).toBe(1);
        const waiting = await h.store.getSaga('d2');
        expect(waiting).toMatchObject({ status: 'running', step: 3, attempts: 2 });
        await clock.advance(waiting!.nextAttemptAt - clock.now() - 1);
        await wf.supervisor.tick();
        expect(wf.hubBreaker.current()).toBe('open');
        expect(hub.dispatched.map((a) => a.deliveryId)).toEqual(['d1']);
        await clock.advance(1);
        expect(wf.hubBreaker.current()).toBe('half-open');
        await wf.supervisor.tick();
        expect(await h.store.getSaga('d2')).toMatchObject({ status: 'completed' });
        expect(wf.hubBreaker.current()).toBe('closed');
        expect(await h.deliveries.get('d2')).toMatchObject({ stage: 'Scheduled', droneId: 'drone-8' });
        expect(hub.dispatched.map((a) => a.deliveryId)).toEqual(['d1', 'd2']);
      } finally {
        await done();
      }
    });

    it('concurrent sagas never double-book a drone', async () => {
      const { h, clock, wf, done } = await setup();
      try {
        const ids = Array.from({ length: 8 }, (_, k) => `c${k}`);
        for (const id of ids) await h.deliveries.insert(newRequested(id, null, clock.now()), { stage: 'Requested', at: clock.now(), eventId: `${id}:requested` });
        const won = await Promise.all(ids.map((id) => wf.propose(id, 'drone-1', clock.now() + 1000)));
        expect(won.filter(Boolean)).toHaveLength(1);
        const scheduled = (await h.deliveries.listByStage(['Scheduled'], 100)).map((d) => d.droneId);
        expect(scheduled).toEqual(['drone-1']);
        expect(await h.store.reservations()).toHaveLength(1);
        // One delivery offered two drones at once holds one of them only.
        const both = await Promise.all([wf.propose('c7', 'drone-2', clock.now()), wf.propose('c7', 'drone-3', clock.now())]);
        expect(both.filter(Boolean).length).toBeLessThanOrEqual(1);
        expect((await h.store.reservations()).filter((r) => r.holder === 'c7')).toHaveLength(1);
      } finally {
        await done();
      }
    });

    it('two service instances on one database racing for one drone: one delivery gets it', async () => {
      const { db, h, clock, hub, done } = await setup();
      const other = db.concurrentHandles ? await db.open() : h;
      try {
        const wf2 = makeWorkflow(other, hub, clock);
        const wf1 = makeWorkflow(h, hub, clock);
        const ids = Array.from({ length: 6 }, (_, k) => `r${k}`);
        for (const id of ids) await h.deliveries.insert(newRequested(id, null, clock.now()), { stage: 'Requested', at: clock.now(), eventId: `${id}:requested` });
        const won = await Promise.all(ids.map((id, k) => (k % 2 ? wf1 : wf2).propose(id, 'drone-1', clock.now() + 1000)));
        expect(won.filter(Boolean)).toHaveLength(1);
        expect((await h.deliveries.listByStage(['Scheduled'], 100)).map((d) => d.droneId)).toEqual(['drone-1']);
        expect(new Set(hub.dispatched.map((a) => a.deliveryId)).size).toBe(1);
      } finally {
        if (other.deliveries !== h.deliveries) {
          await other.deliveries.close();
          await other.store.close();
        }
        await done();
      }
    });

    for (const n of [1, 2, 3, 4, 5, 6, 7]) {
      for (const when of ['before', 'after'] as const) {
        it(`a crash at saga save ${n} (${when} its commit) resumes in a new instance on the same database and completes exactly once`, async () => {
          const { db, h, clock, hub, done } = await setup();
          try {
            await h.store.insertAccount({ id: 'shop-1', kind: 'business', name: 'Shop', businessId: null, status: 'active', createdAt: clock.now() });
            await h.deliveries.insert(newRequested('d1', 'shop-1', clock.now()), { stage: 'Requested', at: clock.now(), eventId: 'd1:requested' });
            let saves = 0;
            const dying = new Proxy(h.store, {
              get(obj, prop) {
                const v = Reflect.get(obj, prop) as (...a: unknown[]) => Promise<unknown>;
                if (prop !== 'saveSaga') return typeof v === 'function' ? v.bind(obj) : v;
                return async (...a: unknown[]) => {
                  saves += 1;
                  if (saves === n && when === 'before') throw new Error('process died');
                  const ok = await v.apply(obj, a);
                  if (saves === n) throw new Error('process died');
                  return ok;
                };
              },
            });
            const first = makeWorkflow({ deliveries: h.deliveries, store: dying }, hub, clock);
            await first.begin('d1').catch(() => undefined);
            await first.propose('d1', 'drone-7', clock.now() + 5000).catch(() => undefined);
            await first.stop();
            await h.deliveries.close();
            await h.store.close();
            // The restarted service: new handles on the same database, the Supervisor resumes, the scheduler proposes again.
            const again = await db.open();
            try {
              const second = makeWorkflow(again, hub, clock);
              const seen: string[] = [];
              second.onEvent((e) => { seen.push(e.id); });
              await second.start();
              await second.propose('d1', 'drone-7', clock.now() + 5000);
              expect(await again.store.getSaga('d1')).toMatchObject({ status: 'completed' });
              expect((await again.deliveries.history('d1')).map((c) => c.stage)).toEqual(['Requested', 'Scheduled']);
              expect(await again.deliveries.get('d1')).toMatchObject({ stage: 'Scheduled', droneId: 'drone-7' });
              expect(await again.store.reservations()).toEqual([{ droneId: 'drone-7', holder: 'd1' }]);
              // The hub may hear the same assignment twice (it is keyed by delivery id), never another.
              expect(new Set(hub.dispatched.map((a) => `${a.deliveryId}/${a.droneId}`))).toEqual(new Set(['d1/drone-7']));
              await second.relay.drain();
              expect(seen).toEqual(['d1:scheduled']);
              await second.stop();
            } finally {
              h.deliveries = again.deliveries;
              h.store = again.store;
            }
          } finally {
            await done();
          }
        });
      }
    }

    it('a delivery accepted just before a crash, with no saga row yet, gets its saga from the Supervisor at start', async () => {
      const { h, clock, wf, done } = await setup();
      try {
        await h.deliveries.insert(newRequested('d1', null, clock.now()), { stage: 'Requested', at: clock.now(), eventId: 'd1:requested' });
        expect(await h.store.getSaga('d1')).toBeNull();
        await wf.start();
        expect(await h.store.getSaga('d1')).toMatchObject({ status: 'running', step: 2 });
      } finally {
        await done();
      }
    });

    it('a delivery cancelled while its saga waits ends the saga without a failure notice; the package is freed', async () => {
      const { h, clock, wf, events, done } = await setup();
      try {
        await h.deliveries.insert(newRequested('d1', null, clock.now()), { stage: 'Requested', at: clock.now(), eventId: 'd1:requested' });
        await wf.begin('d1');
        await h.deliveries.advance('d1', { stage: 'Cancelled', at: clock.now(), eventId: 'd1:cancelled' }, { eta: null });
        await clock.advance(10_000);
        await wf.supervisor.tick();
        expect(await h.store.getSaga('d1')).toMatchObject({ status: 'failed', error: { code: 'DLV_SAGA_DELIVERY_ENDED' } });
        expect(await h.deliveries.get('d1')).toMatchObject({ stage: 'Cancelled' });
        expect(await h.store.getPackage('pkg-d1')).toMatchObject({ deliveryId: null });
        await wf.relay.drain();
        expect(events).toEqual([]);
      } finally {
        await done();
      }
    });
  });
}
