import { describe, expect, it } from 'vitest';
import { haversineM, type DeliveryAssignment, type DroneStatus, type LatLon } from '@aerie/contracts';
import { DeliveryTracker } from '../src/domain/tracker.js';
import { deliveryMission } from '../src/domain/mission-plan.js';
import { droneStatus } from '../../test-support/fixtures.js';

// Issue 5: the ETA and the battery-reserve alert follow the routed legs the mission flies round a
// no-fly zone (DeliveryAssignment.route), not a straight line through the zone.
const home = { lat: 47.3977, lon: 8.5456 };
const pickup = { lat: 47.399, lon: 8.547 };
const dropoff = { lat: 47.409, lon: 8.547 };
// The zone sits on the straight line pickup → dropoff; the core routed the leg east of it.
const zone = { name: 'hospital', ring: [[8.545, 47.402], [8.552, 47.402], [8.552, 47.406], [8.545, 47.406], [8.545, 47.402]] as const };
const detour: LatLon[] = [{ lat: 47.401, lon: 8.555 }, { lat: 47.407, lon: 8.555 }];
const routed: DeliveryAssignment = {
  v: 1, deliveryId: 'dlv-z', droneId: 'drone-001', ts: 0, correlationId: 'corr-z', action: 'fly', pickup, dropoff, cruiseAltM: 30, groundDelayS: 5,
  route: { toPickup: [], toDropoff: detour },
};
const options = { fenceRadiusM: 15, cruiseSpeedMs: 10, batteryPctPerKm: 4, batteryReservePct: 20, etaMinChangeMs: 1, noFlyZones: [zone] };
const along = (pts: LatLon[]) => pts.slice(1).reduce((m, p, i) => m + haversineM(pts[i]!, p), 0);
const routedM = along([pickup, ...detour, dropoff]);
const straightM = haversineM(pickup, dropoff);

let seq = 0;
function st(p: LatLon, landedState: DroneStatus['landedState'], over: Partial<DroneStatus> = {}): DroneStatus {
  seq += 1;
  return droneStatus({ seq, ts: 1_700_000_000_000 + seq * 1000, armed: true, landedState, position: { ...p, altMsl: 488, altRel: landedState === 'ON_GROUND' ? 0 : 30 }, ...over });
}

/** A tracker for the routed delivery, brought to HeadedToDropoff at the pickup; returns that event's ETA. */
function headedToDropoff(t: DeliveryTracker, over: Partial<DroneStatus> = {}): { eta: number; ts: number } {
  t.assign(routed);
  t.onStatus(st(home, 'TAKEOFF'));
  t.onStatus(st(pickup, 'ON_GROUND'));
  const s = st(pickup, 'TAKEOFF', over);
  const e = t.onStatus(s).find((x) => x.type === 'DeliveryHeadedToDropoff');
  expect(e).toBeDefined();
  return { eta: e!.eta!, ts: s.ts };
}

describe('tracker ETA and battery reserve along the routed legs', () => {
  it('the route is worth testing: round the zone is much longer than straight through it', () => {
    expect(routedM).toBeGreaterThan(straightM * 1.5);
  });

  it('the ETA at the pickup counts the detour (no mission progress: the nearest routed segment)', () => {
    seq = 0;
    const { eta, ts } = headedToDropoff(new DeliveryTracker(options));
    expect(eta).toBe(Math.round(ts + (routedM / 10 + 5) * 1000));
  });

  it('half-way along the detour, what is left is the rest of the detour, not a line through the zone', () => {
    seq = 0;
    const t = new DeliveryTracker(options);
    headedToDropoff(t);
    // Between the two detour waypoints, east of the zone.
    const here = { lat: 47.404, lon: 8.555 };
    const e = t.onStatus(st(here, 'IN_AIR')).find((x) => x.type === 'EtaUpdated');
    const left = haversineM(here, detour[1]!) + haversineM(detour[1]!, dropoff);
    expect(e?.eta).toBe(Math.round(1_700_000_000_000 + seq * 1000 + (left / 10 + 5) * 1000));
    expect(left).toBeGreaterThan(haversineM(here, dropoff) + 100);
  });

  it('with the drone flying this mission, MISSION_CURRENT says which routed waypoints are left', () => {
    seq = 0;
    const t = new DeliveryTracker(options);
    const total = deliveryMission(routed).length;
    headedToDropoff(t, { mission: { current: 5, total } });
    // Item 7 is the second detour waypoint: the first is behind, even though the drone is still near it.
    const plan = deliveryMission(routed);
    expect(plan[7]).toEqual({ kind: 'waypoint', ...detour[1]!, alt: 30 });
    const here = { lat: 47.4012, lon: 8.5548 };
    const e = t.onStatus(st(here, 'IN_AIR', { mission: { current: 7, total } })).find((x) => x.type === 'EtaUpdated');
    const left = haversineM(here, detour[1]!) + haversineM(detour[1]!, dropoff);
    expect(e?.eta).toBe(Math.round(1_700_000_000_000 + seq * 1000 + (left / 10 + 5) * 1000));
  });

  it('raises battery_reserve when the charge covers the straight line but not the routed way', () => {
    const needRouted = (routedM / 1000) * 4 + 20;
    const needStraight = (straightM / 1000) * 4 + 20;
    const pct = Math.round((needRouted + needStraight) / 2);
    expect(pct).toBeGreaterThan(needStraight);
    expect(pct).toBeLessThan(needRouted);
    seq = 0;
    const t = new DeliveryTracker(options);
    t.assign(routed);
    t.onStatus(st(home, 'TAKEOFF'));
    t.onStatus(st(pickup, 'ON_GROUND'));
    const out = t.onStatus(st(pickup, 'TAKEOFF', { battery: { pct, voltage: 15, current: 10 } }));
    const alert = out.find((x) => x.type === 'DeliveryAlert' && x.alert === 'battery_reserve');
    expect(alert).toMatchObject({ deliveryId: 'dlv-z', correlationId: 'corr-z', reason: `battery ${pct}% < ${needRouted.toFixed(0)}% needed for the remaining route` });

    // The same charge on the straight assignment (no route) raises nothing.
    seq = 0;
    const plain = new DeliveryTracker(options);
    const { route: _, ...straight } = routed;
    plain.assign(straight);
    plain.onStatus(st(home, 'TAKEOFF'));
    plain.onStatus(st(pickup, 'ON_GROUND'));
    expect(plain.onStatus(st(pickup, 'TAKEOFF', { battery: { pct, voltage: 15, current: 10 } })).some((x) => x.alert === 'battery_reserve')).toBe(false);
  });
});
