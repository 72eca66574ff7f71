import { describe, expect, it, onTestFinished } from 'vitest';
import type { DeliveryAssignment, LatLon } from '@aerie/contracts';
import { DeliveryService, MemoryFleetLink, buildHttp, coreConfig } from '../src/index.js';
import type { OutboxEvent } from '../src/domain/outbox.js';
import { droneStatus } from '../../test-support/fixtures.js';
import { httpStores, stopCore } from './http-stores.js';

// Issue 7: a reschedule of a delivery already dispatched but not yet Scheduled (its saga holds the
// drone and waits for the hub's answer: the drone is offline) must not leave the hub flying the old
// mission: it is aborted, the drone released, and the delivery re-planned on another drone.
const now = 1_700_000_000_000;
const clock = { now: () => now, setTimeout: () => 0, clearTimeout: () => undefined, setInterval: () => 0, clearInterval: () => undefined };
const pickup: LatLon = { lat: 47.399, lon: 8.547 };
const dropoff: LatLon = { lat: 47.409, lon: 8.547 };
// Issue 7: the same suite on memory, a SQLite file and Debian's PostgreSQL (a database per test).
const stores = httpStores(['memory', 'sqlite', 'postgres']);

describe.each(['memory', 'sqlite', 'postgres'] as const)('PATCH of a dispatched delivery whose hub answer is still awaited, on %s', (kind) => {
  it('aborts the mission at the hub, releases the drone, emits DeliveryRescheduled, and re-plans on another drone', async () => {
    // A hub that does not answer yet (the drone is offline).
    const fleet = new MemoryFleetLink(() => null);
    const store = await stores.fresh(kind);
    const service = new DeliveryService(store.repo, fleet, coreConfig({ dbPath: ':memory:', scheduling: { holdMs: 0 } }), clock, store.records);
    const app = buildHttp(service);
    onTestFinished(() => stopCore(service, app, store));
    const events: OutboxEvent[] = [];
    service.workflow.onEvent((e) => void events.push(e));
    const published: (DeliveryAssignment | null)[] = [];
    const orig = fleet.publishAssignment.bind(fleet);
    fleet.publishAssignment = (id, a) => {
      published.push(a);
      orig(id, a);
    };
    fleet.pushStatus(droneStatus({ droneId: 'a', ts: now, position: { lat: pickup.lat - 0.01, lon: pickup.lon, altMsl: 488, altRel: 0 } }));
    expect((await app.inject({ method: 'PUT', url: '/api/v1/deliveries/r', payload: { pickup, dropoff } })).statusCode).toBe(202);
    await service.schedulePending();
    expect(published).toMatchObject([{ action: 'fly', droneId: 'a' }]);
    expect(await service.workflow.heldDrone('r')).toBe('a');
    expect((await service.get('r')).delivery).toMatchObject({ stage: 'Requested', droneId: null });

    const moved = { lat: 47.41, lon: 8.548 };
    const res = await app.inject({ method: 'PATCH', url: '/api/v1/deliveries/r', payload: { dropoff: moved } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ stage: 'Requested', droneId: null, dropoff: moved });
    expect(published.slice(1)).toMatchObject([{ action: 'abort', droneId: 'a', abortReason: 'reassigned' }, null]);
    expect(await service.workflow.heldDrone('r')).toBeNull();
    await service.workflow.relay.drain();
    expect(events.map((e) => e.type)).toEqual(['DeliveryRescheduled']);
    // Called again (a restart), nothing more happens.
    expect(await service.workflow.replanPending('r', 'a')).toBe(false);

    // The hub answers again; 'a' is not given this delivery again, 'b' is.
    fleet.answer = () => ({ outcome: 'accepted' });
    fleet.pushStatus(droneStatus({ droneId: 'a', seq: 2, ts: now, position: { lat: pickup.lat - 0.01, lon: pickup.lon, altMsl: 488, altRel: 0 } }));
    fleet.pushStatus(droneStatus({ droneId: 'b', ts: now, position: { lat: pickup.lat - 0.02, lon: pickup.lon, altMsl: 488, altRel: 0 } }));
    expect(await service.schedulePending()).toBe(1);
    expect((await service.get('r')).delivery).toMatchObject({ stage: 'Scheduled', droneId: 'b', dropoff: moved });
    expect(fleet.assignments.get('r')).toMatchObject({ action: 'fly', droneId: 'b', dropoff: moved });
  });
});
