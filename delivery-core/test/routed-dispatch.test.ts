import { describe, expect, it } from 'vitest';
import { booleanPointInPolygon, point, polygon } from '@turf/turf';
import { haversineM, type DeliveryTracking, type LatLon } from '@aerie/contracts';
import { DeliveryService, MemoryDeliveryRepository, MemoryFleetLink, buildHttp, coreConfig, remainingSeconds } from '../src/index.js';
import { pathCruiseS, restOfPath } from '../src/domain/eta.js';
import { droneStatus } from '../../test-support/fixtures.js';

const pickup: LatLon = { lat: 47.39, lon: 8.54 };
const dropoff: LatLon = { lat: 47.41, lon: 8.54 };
// Straight across the pickup → dropoff line, 220 m deep and 750 m wide.
const zone = polygon([[[8.535, 47.399], [8.545, 47.399], [8.545, 47.401], [8.535, 47.401], [8.535, 47.399]]]);

/** Every metre-ish of the polyline is outside the zone. */
function clearOfZone(path: readonly LatLon[]): boolean {
  for (let k = 1; k < path.length; k++) {
    const a = path[k - 1]!, b = path[k]!;
    const n = Math.ceil(haversineM(a, b) / 2);
    for (let i = 0; i <= n; i++) {
      const t = i / n;
      if (booleanPointInPolygon(point([a.lon + t * (b.lon - a.lon), a.lat + t * (b.lat - a.lat)]), zone)) return false;
    }
  }
  return true;
}

async function dispatched(zones: boolean) {
  let now = 1_700_000_000_000;
  const clock = { now: () => now, setTimeout: () => 0, clearTimeout: () => undefined, setInterval: () => 0, clearInterval: () => undefined };
  const fleet = new MemoryFleetLink();
  const config = coreConfig({ dbPath: ':memory:', scheduling: { holdMs: 0, ...(zones ? { noFlyZones: [zone], noFlyMarginM: 20 } : {}) } });
  const service = new DeliveryService(new MemoryDeliveryRepository(), fleet, config, clock);
  fleet.pushStatus(droneStatus({ ts: now, position: { ...pickup, altMsl: 488, altRel: 0 } }));
  const put = await buildHttp(service).inject({ method: 'PUT', url: '/api/v1/deliveries/d1', payload: { pickup, dropoff } });
  expect(put.statusCode).toBe(202);
  await service.schedulePending();
  const a = fleet.assignments.get('d1');
  if (!a) throw new Error('no assignment published');
  return { service, fleet, config, a, advance: (ms: number) => (now += ms), now: () => now };
}

describe('assignments carry the route round no-fly zones', () => {
  it('sends the waypoints of the routed legs, each clear of the zone; no zones, no route', async () => {
    const { a } = await dispatched(true);
    expect(a.action).toBe('fly');
    expect(a.route?.toPickup).toEqual([]);
    expect(a.route!.toDropoff.length).toBeGreaterThan(0);
    expect(clearOfZone([pickup, dropoff])).toBe(false);
    expect(clearOfZone([pickup, ...a.route!.toDropoff, dropoff])).toBe(true);
    // Home is the launch point (the pickup here): the way back goes round too.
    expect(clearOfZone([dropoff, ...a.route!.toHome!, pickup])).toBe(true);
    const plain = await dispatched(false);
    expect(plain.a.route).toBeUndefined();
  });

  it('in flight, the ETA follows what is left of the routed path, not a straight line through the zone', async () => {
    const { service, fleet, config, a, advance, now } = await dispatched(true);
    const track = (stage: DeliveryTracking['stage'], type: DeliveryTracking['type']): DeliveryTracking =>
      ({ v: 1, eventId: stage, type, deliveryId: 'd1', droneId: 'drone-001', stage, ts: now(), location: null, eta: null });
    for (const [stage, type] of [['HeadedToPickup', 'DeliveryHeadedToPickup'], ['PickedUp', 'PackagePickedUp'], ['HeadedToDropoff', 'DeliveryHeadedToDropoff']] as const) {
      fleet.pushTracking(track(stage, type));
    }
    await service.settled();
    // Cruising at the model's speed on the first piece of the detour, from the pickup to its first corner.
    const c1 = a.route!.toDropoff[0]!;
    const here = { lat: pickup.lat + 0.3 * (c1.lat - pickup.lat), lon: pickup.lon + 0.3 * (c1.lon - pickup.lon) };
    advance(5000);
    fleet.pushStatus(droneStatus({
      seq: 2, ts: now(), armed: true, landedState: 'IN_AIR', groundSpeed: config.profile.cruiseSpeedMs, position: { ...here, altMsl: 518, altRel: config.profile.cruiseAltM },
    }));
    await service.refreshEtas();

    const leftS = ((await service.get('d1')).delivery.eta! - now()) / 1000;
    const p = config.profile;
    const along = [here, ...a.route!.toDropoff, dropoff];
    expect(restOfPath([pickup, ...a.route!.toDropoff, dropoff], here)).toEqual(along);
    const routedS = pathCruiseS(p, along) + remainingSeconds(p, 'HeadedToDropoff', { ...dropoff, altRel: p.cruiseAltM }, pickup, dropoff);
    const straightS = remainingSeconds(p, 'HeadedToDropoff', { ...here, altRel: p.cruiseAltM }, pickup, dropoff);
    expect(leftS).toBeGreaterThan(straightS + 5);
    expect(Math.abs(leftS - routedS)).toBeLessThan(1.5);
  });
});

describe('restOfPath', () => {
  it('takes the piece of the path nearest the drone and keeps the vertices after it', () => {
    const path = [{ lat: 0, lon: 0 }, { lat: 0, lon: 0.01 }, { lat: 0.01, lon: 0.01 }, { lat: 0.01, lon: 0.02 }];
    expect(restOfPath(path, { lat: 0.0001, lon: 0.005 })).toEqual([{ lat: 0.0001, lon: 0.005 }, ...path.slice(1)]);
    expect(restOfPath(path, { lat: 0.005, lon: 0.0101 })).toEqual([{ lat: 0.005, lon: 0.0101 }, ...path.slice(2)]);
    expect(restOfPath(path, { lat: 0.0101, lon: 0.0199 })).toEqual([{ lat: 0.0101, lon: 0.0199 }, path[3]]);
  });
});
