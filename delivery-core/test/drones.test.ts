import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { DeliveryService, MemoryDeliveryRepository, MemoryFleetLink, buildHttp, coreConfig, type DroneRegistration } from '../src/index.js';
import { droneStatus } from '../../test-support/fixtures.js';

let now = 1_700_000_000_000;
const clock = { now: () => now, setTimeout: () => 0, clearTimeout: () => undefined, setInterval: () => 0, clearInterval: () => undefined };
const home = { lat: 47.3977, lon: 8.5456 };
const REGISTRY: DroneRegistration[] = [
  { id: 'drone-001', airframe: 'quad-x 2 kg', maxPayloadKg: 2.5, maxRangeM: 20_000, home },
  { id: 'drone-002', airframe: 'quad-x 2 kg', maxPayloadKg: 2.5, maxRangeM: 20_000, home },
  // Nearest to every pickup below, but it cannot lift the default 1 kg package.
  { id: 'mini-1', airframe: 'micro 250 g', maxPayloadKg: 0.5, maxRangeM: 5_000, home: { lat: 47.399, lon: 8.547 } },
];
const body = { pickup: { lat: 47.399, lon: 8.547 }, dropoff: { lat: 47.401, lon: 8.55 } };

let fleet: MemoryFleetLink;
let service: DeliveryService;
let app: FastifyInstance;

beforeEach(() => {
  fleet = new MemoryFleetLink();
  service = new DeliveryService(new MemoryDeliveryRepository(), fleet, coreConfig({ dbPath: ':memory:', scheduling: { holdMs: 0 }, drones: REGISTRY }), clock);
  app = buildHttp(service);
});
afterEach(async () => {
  await app.close();
});

const get = async (url: string) => {
  const res = await app.inject({ method: 'GET', url });
  return { status: res.statusCode, json: res.json<Record<string, unknown> & { items: Record<string, unknown>[] }>() };
};

describe('drones resource', () => {
  it('joins the registry with live state: available, busy with its delivery, offline, unavailable, unregistered', async () => {
    fleet.pushStatus(droneStatus({ droneId: 'drone-001', ts: now, position: { lat: 47.3985, lon: 8.5465, altMsl: 488, altRel: 0 } }));
    fleet.pushStatus(droneStatus({ droneId: 'mini-1', ts: now, position: { lat: 47.399, lon: 8.547, altMsl: 488, altRel: 0 } }));
    fleet.pushStatus(droneStatus({ droneId: 'stray-9', ts: now, battery: { pct: 12, voltage: 14.1, current: 0.5 } }));
    expect((await get('/api/v1/drones')).json.items.map((d) => [d.id, d.state])).toEqual([
      ['drone-001', 'available'], ['drone-002', 'offline'], ['mini-1', 'available'], ['stray-9', 'unavailable'],
    ]);

    await app.inject({ method: 'PUT', url: '/api/v1/deliveries/d1', payload: body });
    expect(await service.schedulePending()).toBe(1);
    // The planner honoured the registry: mini-1 is nearer but its payload limit rules it out.
    const busy = await get('/api/v1/drones/drone-001');
    expect(busy.status).toBe(200);
    expect(busy.json).toMatchObject({
      id: 'drone-001', registered: true, airframe: 'quad-x 2 kg', limits: { maxPayloadKg: 2.5, maxRangeM: 20_000 }, home,
      state: 'busy', currentDelivery: 'd1',
      live: { lastSeen: new Date(now).toISOString(), position: { lat: 47.3985, lon: 8.5465, altRel: 0 }, batteryPct: 95, landedState: 'ON_GROUND', armed: false },
    });
    expect((await get('/api/v1/drones/drone-002')).json).toMatchObject({ state: 'offline', currentDelivery: null, live: null });
    // Seen but not registered: listed with the limits the planner assumes for it.
    expect((await get('/api/v1/drones/stray-9')).json).toMatchObject({
      registered: false, airframe: null, home: null, limits: { maxPayloadKg: coreConfig().airframe.maxPayloadKg }, state: 'unavailable',
    });
    expect((await get('/api/v1/drones?state=busy')).json.items.map((d) => d.id)).toEqual(['drone-001']);

    now += coreConfig().assignment.maxStatusAgeMs + 1;
    expect((await get('/api/v1/drones/mini-1')).json).toMatchObject({ state: 'offline' });
  });

  it('answers an unknown drone with 404 DLV_ERR_DRONE_NOT_FOUND and a bad id or filter with 400', async () => {
    const unknown = await get('/api/v1/drones/nope');
    expect(unknown.status).toBe(404);
    expect(unknown.json).toMatchObject({ code: 'DLV_ERR_DRONE_NOT_FOUND' });
    expect((await get('/api/v1/drones/bad+id')).json).toMatchObject({ code: 'DLV_ERR_VALIDATION' });
    expect((await get('/api/v1/drones?state=flying')).json).toMatchObject({ code: 'DLV_ERR_VALIDATION' });
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await get('/api/docs')).json as unknown as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/drones', '/api/v1/drones/{id}']));
  });

  it('refuses a registry it cannot use', () => {
    const one = REGISTRY[0]!;
    for (const drones of [[one, one], [{ ...one, home: { lat: 91, lon: 0 } }], [{ ...one, maxPayloadKg: 0 }], [{ ...one, id: 'a/b' }], [{ ...one, airframe: '' }]]) {
      expect(() => coreConfig({ drones })).toThrow(expect.objectContaining({ code: 'DLV_ERR_CONFIG' }) as Error);
    }
  });
});
