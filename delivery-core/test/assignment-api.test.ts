import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { polygon } from '@turf/turf';
import { DeliveryService, MemoryDeliveryRepository, MemoryFleetLink, buildHttp, coreConfig } from '../src/index.js';
import type { SchedulingConfig } from '../src/config.js';
import { droneStatus } from '../../test-support/fixtures.js';

let now = 1_700_000_000_000;
const clock = {
  now: () => now,
  setTimeout: () => 0, clearTimeout: () => undefined, setInterval: () => 0, clearInterval: () => undefined,
};
const body = { pickup: { lat: 47.399, lon: 8.547 }, dropoff: { lat: 47.401, lon: 8.55 } };
const at = (lat: number, lon: number) => ({ lat, lon, altMsl: 488, altRel: 0 });
let app: FastifyInstance | null = null;
afterEach(async () => {
  await app?.close();
  app = null;
});

function setup(scheduling: Partial<SchedulingConfig>) {
  const fleet = new MemoryFleetLink();
  const service = new DeliveryService(new MemoryDeliveryRepository(), fleet, coreConfig({ dbPath: ':memory:', scheduling: { holdMs: 0, ...scheduling } }), clock);
  app = buildHttp(service);
  return { fleet, service, app };
}

describe('GET /api/v1/deliveries/{id}/assignment', () => {
  it('explains the choice: cost in parts, constraints that ruled drones out, why each alternative lost', async () => {
    const { fleet, service, app } = setup({});
    fleet.pushStatus(droneStatus({ droneId: 'near', ts: now, position: at(47.3985, 8.5465) }));
    fleet.pushStatus(droneStatus({ droneId: 'far', ts: now, position: at(47.41, 8.56) }));
    await app.inject({ method: 'PUT', url: '/api/v1/deliveries/d1', payload: body });
    expect(await service.schedulePending()).toBe(1);
    const res = await app.inject({ method: 'GET', url: '/api/v1/deliveries/d1/assignment' });
    expect(res.statusCode).toBe(200);
    const a = res.json<{ droneId: string; explanation: { droneId: string; state: string; costS: number; breakdown: Record<string, number>; alternatives: { droneId: string; why: string; costS: number }[] } }>();
    expect(a).toMatchObject({ droneId: 'near', explanation: { droneId: 'near', state: 'committed', feasible: 2 } });
    const b = a.explanation.breakdown;
    expect(b.approachS! + b.waitS! + b.groundS! + b.loadedS!).toBeCloseTo(a.explanation.costS, 6);
    expect(a.explanation.alternatives).toEqual([expect.objectContaining({ droneId: 'far', why: 'higher-cost' })]);
    expect(a.explanation.alternatives[0]!.costS).toBeGreaterThan(a.explanation.costS);
    expect((await app.inject({ method: 'GET', url: '/api/v1/deliveries/none/assignment' })).json()).toMatchObject({ code: 'DLV_ERR_NOT_FOUND' });
  });

  it('re-optimises a tentative pair before committing: a better drone that turns up in time takes the job', async () => {
    const { fleet, service, app } = setup({ holdMs: 1500 });
    fleet.pushStatus(droneStatus({ droneId: 'far', ts: now, position: at(47.41, 8.56) }));
    await app.inject({ method: 'PUT', url: '/api/v1/deliveries/d1', payload: body });
    expect(await service.schedulePending()).toBe(0);
    expect((await app.inject({ method: 'GET', url: '/api/v1/deliveries/d1/assignment' })).json()).toMatchObject({
      droneId: null, stage: 'Requested', explanation: { droneId: 'far', state: 'tentative' },
    });
    now += 1000;
    fleet.pushStatus(droneStatus({ droneId: 'far', ts: now, position: at(47.41, 8.56) }));
    fleet.pushStatus(droneStatus({ droneId: 'near', ts: now, position: at(47.3985, 8.5465) }));
    expect(await service.schedulePending()).toBe(0);
    expect(service.explanations.get('d1')).toMatchObject({ droneId: 'near', state: 'tentative' });
    now += 1500;
    fleet.pushStatus(droneStatus({ droneId: 'far', ts: now, position: at(47.41, 8.56) }));
    fleet.pushStatus(droneStatus({ droneId: 'near', ts: now, position: at(47.3985, 8.5465) }));
    expect(await service.schedulePending()).toBe(1);
    expect((await service.get('d1')).delivery).toMatchObject({ stage: 'Scheduled', droneId: 'near' });
    expect(fleet.assignments.get('d1')).toMatchObject({ droneId: 'near' });
  });

  it('leaves a delivery whose dropoff lies in a no-fly zone unassigned, and says why', async () => {
    const zone = polygon([[[8.549, 47.4], [8.551, 47.4], [8.551, 47.402], [8.549, 47.402], [8.549, 47.4]]]);
    const { fleet, service, app } = setup({ noFlyZones: [zone] });
    fleet.pushStatus(droneStatus({ droneId: 'near', ts: now, position: at(47.3985, 8.5465) }));
    await app.inject({ method: 'PUT', url: '/api/v1/deliveries/d1', payload: body });
    expect(await service.schedulePending()).toBe(0);
    expect((await app.inject({ method: 'GET', url: '/api/v1/deliveries/d1/assignment' })).json()).toMatchObject({
      explanation: { droneId: null, state: 'unassigned', feasible: 0, rejected: { 'no-fly': 1 }, alternatives: [{ droneId: 'near', why: 'no-fly' }] },
    });
  });

  it('refuses malformed no-fly zones at start with DLV_ERR_CONFIG', () => {
    const open = { type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: [[[8.5, 47.4], [8.6, 47.4], [8.6, 47.5]]] } };
    expect(() => coreConfig({ scheduling: { noFlyZones: [open as never] } })).toThrow(expect.objectContaining({ code: 'DLV_ERR_CONFIG' }));
    expect(() => coreConfig({ scheduling: { noFlyZones: [{ type: 'Point' } as never] } })).toThrow(/noFlyZones\[0\]/);
    expect(() => coreConfig({ scheduling: { holdMs: -1 } })).toThrow(expect.objectContaining({ code: 'DLV_ERR_CONFIG' }));
  });
});
