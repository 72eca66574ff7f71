import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { polygon } from '@turf/turf';
import type { LatLon } from '@aerie/contracts';
import type { DeliveryRepository } from '../src/index.js';
import { DeliveryService, MemoryFleetLink, PostgresDeliveryRepository, SqliteDeliveryRepository, buildHttp, coreConfig } from '../src/index.js';
import { startPostgres, type RunningPostgres } from '../../test-support/postgres.js';
import { droneStatus } from '../../test-support/fixtures.js';

// Issue 7: the assignment's route round no-fly zones is stored with the delivery, so a restarted
// core re-publishes the mission the hub already has, not one recomputed from the drone's base.
const dir = mkdtempSync(join(tmpdir(), 'aerie-route-'));
let postgres: RunningPostgres;
beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  await postgres?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const now = 1_700_000_000_000;
const clock = { now: () => now, setTimeout: () => 0, clearTimeout: () => undefined, setInterval: () => 0, clearInterval: () => undefined };
const pickup: LatLon = { lat: 47.39, lon: 8.54 };
const dropoff: LatLon = { lat: 47.38, lon: 8.54 };
// The drone waits north of a band across its way to the pickup; its registered base is south, in the clear.
const at: LatLon = { lat: 47.41, lon: 8.54 };
const band = polygon([[[8.535, 47.399], [8.545, 47.399], [8.545, 47.401], [8.535, 47.401], [8.535, 47.399]]]);
const config = coreConfig({
  dbPath: ':memory:',
  scheduling: { holdMs: 0, noFlyZones: [band], noFlyMarginM: 20 },
  drones: [{ id: 'drone-001', airframe: 'quad', maxPayloadKg: 2.5, maxRangeM: 20_000, home: { lat: 47.385, lon: 8.545 } }],
});

async function restartKeepsRoute(open: () => DeliveryRepository): Promise<void> {
  const fleet = new MemoryFleetLink();
  const repo = open();
  const service = new DeliveryService(repo, fleet, config, clock);
  await service.start();
  fleet.pushStatus(droneStatus({ ts: now, position: { ...at, altMsl: 488, altRel: 0 } }));
  const app = buildHttp(service);
  expect((await app.inject({ method: 'PUT', url: '/api/v1/deliveries/d1', payload: { pickup, dropoff } })).statusCode).toBe(202);
  expect(await service.schedulePending()).toBe(1);
  const sent = fleet.assignments.get('d1');
  expect(sent?.route?.toPickup.length).toBeGreaterThan(0);
  service.stop();
  await service.workflow.stop();
  await app.close();
  await repo.close();

  // A new process on the same database; the drone has not been heard from since.
  const fleet2 = new MemoryFleetLink();
  const repo2 = open();
  const service2 = new DeliveryService(repo2, fleet2, config, clock);
  await service2.start();
  const again = fleet2.assignments.get('d1');
  expect(again).toMatchObject({ action: 'fly', droneId: 'drone-001' });
  expect(again?.route).toEqual(sent?.route);
  // What the base would give instead: the old behaviour, a different mission.
  const fromBase = (await service2.get('d1')).delivery;
  expect(fromBase.route?.from).toEqual(at);
  const app2 = buildHttp(service2);
  expect((await app2.inject({ method: 'GET', url: '/api/v1/deliveries/d1' })).json()).toMatchObject({ stage: 'Scheduled', droneId: 'drone-001' });
  service2.stop();
  await service2.workflow.stop();
  await app2.close();
  await repo2.close();
}

describe('the dispatched route survives a restart', () => {
  it('SQLite', async () => {
    const path = join(dir, 'route.sqlite');
    await restartKeepsRoute(() => new SqliteDeliveryRepository(path));
  });

  it('PostgreSQL', async () => {
    const url = await postgres.createDatabase();
    await restartKeepsRoute(() => new PostgresDeliveryRepository(url));
  });
});
