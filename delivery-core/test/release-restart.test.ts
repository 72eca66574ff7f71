import { describe, expect, it } from 'vitest';
import type { DeliveryTracking } from '@aerie/contracts';
import { DeliveryService, MemoryFleetLink, buildHttp, coreConfig } from '../src/index.js';
import { droneStatus } from '../../test-support/fixtures.js';
import { httpStores, stopCore } from './http-stores.js';

// Issue 7: no drone stays held by a delivery that ended. The saga frees an ended delivery's drone
// right after the final stage is stored; a crash in between left the reservation behind, and
// that drone was never planned again. A restarted core frees it before it plans.
const stores = httpStores(['sqlite', 'postgres']);
const now = 1_700_000_000_000;
const clock = { now: () => now, setTimeout: () => 0, clearTimeout: () => undefined, setInterval: () => 0, clearInterval: () => undefined };
const config = coreConfig({ dbPath: ':memory:', scheduling: { holdMs: 0 } });
const body = { pickup: { lat: 47.399, lon: 8.547 }, dropoff: { lat: 47.401, lon: 8.55 } };
const done = (id: string): DeliveryTracking => ({
  v: 1, eventId: `${id}:done`, type: 'DeliveryCompleted', deliveryId: id, droneId: 'drone-001', stage: 'Completed', ts: now, location: { lat: 47.401, lon: 8.55, altRel: 0 }, eta: null,
});

describe.each(['sqlite', 'postgres'] as const)('a release cut short by a crash, on %s', (kind) => {
  it('is redone at start: the drone flies the next delivery', async () => {
    const place = await stores.place(kind);
    let store = await stores.open(place);
    let fleet = new MemoryFleetLink();
    let service = new DeliveryService(store.repo, fleet, config, clock, store.records);
    let app = buildHttp(service);
    await service.start();
    fleet.pushStatus(droneStatus({ droneId: 'drone-001', ts: now }));
    expect((await app.inject({ method: 'PUT', url: '/api/v1/deliveries/d1', payload: body })).statusCode).toBe(202);
    expect(await service.schedulePending()).toBe(1);
    fleet.pushTracking(done('d1'));
    await service.settled();
    expect((await service.get('d1')).delivery.stage).toBe('Completed');
    expect(await service.workflow.heldDrone('d1')).toBeNull();
    // The crash: the final stage is stored, its release is not (the reservation put back as it was).
    expect(await store.records.reserveDrone('drone-001', 'd1', now)).toBe(true);
    // Stopped as a crash leaves it: nothing else runs after, the reservation stays.
    service.stop();
    await service.workflow.stop();
    await app.close();
    await store.close();

    store = await stores.open(place);
    fleet = new MemoryFleetLink();
    service = new DeliveryService(store.repo, fleet, config, clock, store.records);
    app = buildHttp(service);
    await service.start();
    expect(await service.workflow.heldDrone('d1')).toBeNull();
    fleet.pushStatus(droneStatus({ droneId: 'drone-001', ts: now }));
    expect((await app.inject({ method: 'PUT', url: '/api/v1/deliveries/d2', payload: body })).statusCode).toBe(202);
    expect(await service.schedulePending()).toBe(1);
    expect((await service.get('d2')).delivery.droneId).toBe('drone-001');
    await stopCore(service, app, store);
  });
});
