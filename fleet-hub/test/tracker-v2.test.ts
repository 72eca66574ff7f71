import { describe, expect, it } from 'vitest';
import { DeliveryTracker, deliveryMission } from '../src/index.js';
import { droneStatus } from '../../test-support/fixtures.js';
import type { DeliveryAssignment, DroneStatus } from '@aerie/contracts';

const home = { lat: 47.3977, lon: 8.5456 };
const pickup = { lat: 47.3990, lon: 8.5470 };
const dropoff = { lat: 47.4010, lon: 8.5500 };
const assignment: DeliveryAssignment = {
  v: 1, deliveryId: 'dlv-1', droneId: 'drone-001', ts: 0, action: 'fly', pickup, dropoff, cruiseAltM: 30, groundDelayS: 5, correlationId: 'corr-1',
};
const T0 = 1_700_000_000_000;
const planLength = deliveryMission(assignment).length;
let seq = 0;
function st(p: { lat: number; lon: number }, landedState: DroneStatus['landedState'], over: Partial<DroneStatus> = {}): DroneStatus {
  seq += 1;
  return droneStatus({
    seq, ts: T0 + seq * 1000, armed: true, landedState, position: { ...p, altMsl: 488, altRel: landedState === 'ON_GROUND' ? 0 : 30 },
    mission: { current: 0, total: planLength }, ...over,
  });
}
function tracker(): DeliveryTracker {
  seq = 0;
  const t = new DeliveryTracker(15);
  t.assign(assignment);
  return t;
}
const types = (xs: { type: string }[]) => xs.map((x) => x.type);

describe('DeliveryTracker: mission progress, failsafes, ordering, ETA and alerts', () => {
  it('takes mission progress as HeadedToPickup before the drone leaves the ground, and past the pickup items as HeadedToDropoff', () => {
    const t = tracker();
    expect(types(t.onStatus(st(home, 'ON_GROUND', { mission: { current: 1, total: planLength } })))).toContain('DeliveryHeadedToPickup');
    expect(types(t.onStatus(st(pickup, 'ON_GROUND', { mission: { current: 3, total: planLength } })))).toContain('PackagePickedUp');
    // Items 3 to 4 (grab, delay) are still at the pickup; 5 is the takeoff from it.
    expect(types(t.onStatus(st(pickup, 'ON_GROUND', { mission: { current: 4, total: planLength } })))).not.toContain('DeliveryHeadedToDropoff');
    expect(types(t.onStatus(st(pickup, 'ON_GROUND', { mission: { current: 5, total: planLength } })))).toContain('DeliveryHeadedToDropoff');
  });

  it('never moves a stage backwards on out-of-order or duplicate statuses', () => {
    const t = tracker();
    const early = st(home, 'ON_GROUND');
    const takeoff = st(home, 'TAKEOFF');
    const atPickup = st(pickup, 'ON_GROUND');
    t.onStatus(takeoff);
    t.onStatus(atPickup);
    expect(t.onStatus(early)).toEqual([]);
    expect(t.onStatus(takeoff)).toEqual([]);
    expect(types(t.onStatus(st(pickup, 'TAKEOFF')))).toEqual(['DeliveryHeadedToDropoff']);
  });

  it('fails the delivery on a failsafe return-to-launch with the package on board, with a failsafe alert first', () => {
    const t = tracker();
    t.onStatus(st(home, 'TAKEOFF'));
    t.onStatus(st(pickup, 'ON_GROUND'));
    const out = t.onStatus(st(pickup, 'IN_AIR', { flightMode: 'RETURN', health: { sensorsHealthy: true, failsafe: true } }));
    expect(out.map((e) => [e.type, e.alert ?? e.reason])).toEqual([
      ['DeliveryAlert', 'failsafe'], ['DeliveryFailed', 'failsafe return-to-launch with the package on board'],
    ]);
    expect(out.every((e) => e.correlationId === 'corr-1')).toBe(true);
    expect(t.activeCount).toBe(0);
  });

  it('a failsafe before pickup is an alert, raised once per episode, not a failure', () => {
    const t = tracker();
    t.onStatus(st(home, 'TAKEOFF'));
    const fs = { flightMode: 'RETURN' as const, health: { sensorsHealthy: true, failsafe: true } };
    expect(types(t.onStatus(st(home, 'IN_AIR', fs)))).toEqual(['DeliveryAlert']);
    expect(types(t.onStatus(st(home, 'IN_AIR', fs))).filter((x) => x === 'DeliveryAlert')).toEqual([]);
    expect(t.activeCount).toBe(1);
  });

  it('sends EtaUpdated on a meaningful change only, not on every status', () => {
    const t = tracker();
    t.onStatus(st(home, 'TAKEOFF'));
    const small = [0, 1, 2, 3].flatMap((i) => t.onStatus(st({ lat: home.lat + i * 1e-5, lon: home.lon }, 'IN_AIR', { ts: T0 + 2000 + i })));
    expect(types(small)).toEqual([]);
    // Four minutes later, no closer: the ETA moved by minutes.
    const late = t.onStatus(st(home, 'IN_AIR', { ts: T0 + 240_000 }));
    expect(types(late)).toEqual(['EtaUpdated']);
    expect(late[0]!.eta).toBeGreaterThan(T0 + 240_000);
  });

  it('alerts once when telemetry goes stale for 15 s, and again only after it came back', () => {
    const t = tracker();
    t.onStatus(st(home, 'TAKEOFF'), T0);
    expect(t.onTick(T0 + 14_999)).toEqual([]);
    const stale = t.onTick(T0 + 15_000);
    expect(stale.map((e) => [e.type, e.alert])).toEqual([['DeliveryAlert', 'telemetry_stale']]);
    expect(t.onTick(T0 + 20_000)).toEqual([]);
    t.onStatus(st(home, 'IN_AIR'), T0 + 21_000);
    expect(t.onTick(T0 + 36_000)).toHaveLength(1);
  });

  it('alerts when the battery is below what the remaining route needs plus the reserve', () => {
    const t = tracker();
    const low = t.onStatus(st(home, 'TAKEOFF', { battery: { pct: 21, voltage: 14.8, current: 20 } }));
    expect(low.find((e) => e.type === 'DeliveryAlert')).toMatchObject({ alert: 'battery_reserve', deliveryId: 'dlv-1' });
    expect(t.onStatus(st(home, 'IN_AIR', { battery: { pct: 20, voltage: 14.8, current: 20 } })).filter((e) => e.type === 'DeliveryAlert')).toEqual([]);
  });

  it('alerts once on entering a no-fly zone, and again only after leaving and re-entering', () => {
    seq = 0;
    const zone = { name: 'hospital', ring: [[8.5460, 47.3980], [8.5465, 47.3980], [8.5465, 47.3985], [8.5460, 47.3985], [8.5460, 47.3980]] as [number, number][] };
    const t = new DeliveryTracker({ fenceRadiusM: 15, noFlyZones: [zone] });
    t.assign(assignment);
    const inside = { lat: 47.39825, lon: 8.54625 };
    const alerts = () => (xs: { type: string; alert?: string }[]) => xs.filter((e) => e.alert === 'no_fly_zone').length;
    const count = alerts();
    expect(count(t.onStatus(st(home, 'TAKEOFF')))).toBe(0);
    expect(count(t.onStatus(st(inside, 'IN_AIR')))).toBe(1);
    expect(count(t.onStatus(st(inside, 'IN_AIR')))).toBe(0);
    expect(count(t.onStatus(st(home, 'IN_AIR')))).toBe(0);
    const again = t.onStatus(st(inside, 'IN_AIR'));
    expect(again.find((e) => e.alert === 'no_fly_zone')).toMatchObject({ type: 'DeliveryAlert', reason: 'inside no-fly zone hospital', correlationId: 'corr-1' });
  });

  it('reports DeliveryRescheduled when the core moves the delivery to another drone', () => {
    const t = tracker();
    const out = t.assign({ ...assignment, droneId: 'drone-002' }, T0);
    expect(out).toMatchObject([{ type: 'DeliveryRescheduled', stage: 'Scheduled', droneId: 'drone-002', correlationId: 'corr-1' }]);
    expect(t.activeFor('drone-001')).toBeNull();
    expect(t.activeFor('drone-002')?.deliveryId).toBe('dlv-1');
  });
});
