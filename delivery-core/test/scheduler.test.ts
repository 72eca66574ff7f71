import { describe, expect, it } from 'vitest';
import { polygon } from '@turf/turf';
import type { LatLon } from '@aerie/contracts';
import { Scheduler, type SchedulerSettings } from '../src/domain/scheduler.js';
import type { PlanDrone, PlanJob } from '../src/domain/planner.js';

const base: LatLon = { lat: 47.3769, lon: 8.5417 };
const settings: SchedulerSettings = {
  profile: { cruiseSpeedMs: 12, climbRateMs: 3, descentRateMs: 1.5, cruiseAltM: 30, groundDelayS: 5 },
  energy: { basePowerW: 450, perKgPowerW: 90, reserveFraction: 0.2, capacityWh: 250 },
  noFlyZones: [], noFlyMarginM: 50, holdMs: 2000, switchPenaltyS: 20,
};
const drone = (id: string, dLat: number): PlanDrone => ({
  id, position: { lat: base.lat + dLat, lon: base.lon }, home: { lat: base.lat + dLat, lon: base.lon }, maxPayloadKg: 2, energyWh: 250, maxRangeM: 30_000,
});
const job: PlanJob = { id: 'x', pickup: base, dropoff: { lat: base.lat, lon: base.lon + 0.02 }, weightKg: 1 };

describe('re-optimisation of uncommitted assignments', () => {
  it('holds a new pair tentatively and commits it once it has stood for holdMs', () => {
    const s = new Scheduler(settings);
    expect(s.pass([drone('a', 0.01)], [job], 0).size).toBe(0);
    expect(s.explanation('x')).toMatchObject({ droneId: 'a', state: 'tentative' });
    expect(s.pass([drone('a', 0.01)], [job], 1000).size).toBe(0);
    expect(Object.fromEntries(s.pass([drone('a', 0.01)], [job], 2000))).toEqual({ x: 'a' });
    expect(s.explanation('x')).toMatchObject({ droneId: 'a', state: 'committed', kept: true });
  });

  it('moves a tentative pair to a much better drone that became free, and the hold starts again', () => {
    const s = new Scheduler(settings);
    s.pass([drone('a', 0.03)], [job], 0);
    // b is 2 km nearer: far more than the switch penalty.
    expect(s.pass([drone('a', 0.03), drone('b', 0.01)], [job], 1000).size).toBe(0);
    expect(s.explanation('x')).toMatchObject({ droneId: 'b', state: 'tentative', kept: false });
    expect(s.pass([drone('a', 0.03), drone('b', 0.01)], [job], 2500).size).toBe(0);
    expect(Object.fromEntries(s.pass([drone('a', 0.03), drone('b', 0.01)], [job], 3000))).toEqual({ x: 'b' });
    expect(s.tentative.switches).toBe(1);
  });

  it('does not flap between two near-equal drones whose positions jitter', () => {
    const jitter = (k: number) => [drone('a', 0.01 + (k % 2) * 0.0003), drone('b', 0.01 + ((k + 1) % 2) * 0.0003)];
    const sticky = new Scheduler({ ...settings, holdMs: 1e9 });
    const loose = new Scheduler({ ...settings, holdMs: 1e9, switchPenaltyS: 0 });
    for (let k = 0; k < 10; k++) {
      sticky.pass(jitter(k), [job], k * 500);
      loose.pass(jitter(k), [job], k * 500);
    }
    expect(sticky.tentative.switches).toBe(0);
    expect(loose.tentative.switches).toBeGreaterThan(5);
  });

  it('forgets a delivery that is no longer pending', () => {
    const s = new Scheduler(settings);
    s.pass([drone('a', 0.01)], [job], 0);
    s.pass([drone('a', 0.01)], [], 500);
    expect(s.tentative.heldSince('x')).toBeNull();
  });

  it('adds the detour round a no-fly zone to the ETA at dispatch', () => {
    const zone = polygon([[[8.5517, 47.3719], [8.5537, 47.3719], [8.5537, 47.3819], [8.5517, 47.3819], [8.5517, 47.3719]]]);
    const plain = new Scheduler(settings).dispatchEtaS(base, base, job.dropoff);
    const zoned = new Scheduler({ ...settings, noFlyZones: [zone] });
    expect(zoned.dispatchEtaS(base, base, job.dropoff)).toBeGreaterThan(plain + 5);
    zoned.pass([drone('a', 0)], [job], 0);
    const e = zoned.explanation('x')!;
    expect(e.breakdown!.distanceM).toBeGreaterThan(e.breakdown!.straightM);
  });
});
