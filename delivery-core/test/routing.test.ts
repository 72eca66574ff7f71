import { describe, expect, it } from 'vitest';
import { booleanIntersects, lineString, polygon } from '@turf/turf';
import { haversineM, type LatLon } from '@aerie/contracts';
import { NoFlyRouter, type ZoneFeature } from '../src/domain/routing.js';
import { Batch, planBatch, trip, type EnergyModel, type PlanDrone, type PlanJob } from '../src/domain/planner.js';
import { rng } from '../src/bench/instances.js';
import type { FlightProfile } from '../src/domain/eta.js';

const profile: FlightProfile = { cruiseSpeedMs: 12, climbRateMs: 3, descentRateMs: 1.5, cruiseAltM: 30, groundDelayS: 5 };
const energy: EnergyModel = { basePowerW: 450, perKgPowerW: 90, reserveFraction: 0.2, capacityWh: 250 };
const base: LatLon = { lat: 47.3769, lon: 8.5417 };
const at = (dLat: number, dLon: number): LatLon => ({ lat: base.lat + dLat, lon: base.lon + dLon });
/** A square zone centred `dLon` east of the base, `half` degrees of latitude across. */
const square = (cLat: number, cLon: number, half: number): ZoneFeature =>
  polygon([[[cLon - half * 1.5, cLat - half], [cLon + half * 1.5, cLat - half], [cLon + half * 1.5, cLat + half], [cLon - half * 1.5, cLat + half], [cLon - half * 1.5, cLat - half]]]);

function routeOf(r: NoFlyRouter, a: LatLon, b: LatLon): LatLon[] {
  const path = r.path(a, b);
  expect(path).not.toBeNull();
  return path!;
}
const length = (pts: LatLon[]) => pts.slice(1).reduce((m, p, k) => m + haversineM(pts[k]!, p), 0);
const crosses = (pts: LatLon[], zones: ZoneFeature[]) => zones.some((z) => booleanIntersects(lineString(pts.map((p) => [p.lon, p.lat])), z));

describe('no-fly routing', () => {
  const zone = square(base.lat, base.lon + 0.02, 0.006);
  const router = new NoFlyRouter([zone], 50, base, new Batch(profile, energy, base).segmentS);
  const from = at(0, 0);
  const to = at(0, 0.04);

  it('goes round a zone between base and dropoff: longer than the straight line, never inside', () => {
    expect(crosses([from, to], [zone])).toBe(true);
    const path = routeOf(router, from, to);
    expect(path.length).toBeGreaterThan(2);
    expect(length(path)).toBeGreaterThan(haversineM(from, to) * 1.01);
    expect(crosses(path, [zone])).toBe(false);
  });

  it('keeps a clear leg straight', () => {
    expect(routeOf(router, at(0.02, 0), at(0.02, 0.04))).toHaveLength(2);
  });

  it('feeds the routed length into the trip: distance, time and energy all grow', () => {
    const drone: PlanDrone = { id: 'd', position: from, home: from, maxPayloadKg: 2, energyWh: 250, maxRangeM: 30_000 };
    const job: PlanJob = { id: 'j', pickup: from, dropoff: to, weightKg: 1 };
    const clear = trip(new Batch(profile, energy, base), energy, drone, job, 0);
    const routed = trip(new Batch(profile, energy, base, router), energy, drone, job, 0);
    expect(routed.reason).toBeNull();
    expect(routed.distanceM).toBeGreaterThan(clear.distanceM * 1.01);
    expect(routed.straightM).toBeCloseTo(clear.straightM, 3);
    expect(routed.costS).toBeGreaterThan(clear.costS);
    expect(routed.energyWh).toBeGreaterThan(clear.energyWh);
  });

  it('makes a dropoff inside a zone infeasible, and says so', () => {
    const drone: PlanDrone = { id: 'd', position: from, home: from, maxPayloadKg: 2, energyWh: 250, maxRangeM: 30_000 };
    const inside: PlanJob = { id: 'j', pickup: from, dropoff: at(0, 0.02), weightKg: 1 };
    expect(trip(new Batch(profile, energy, base, router), energy, drone, inside, 0).reason).toBe('no-fly');
    const plan = planBatch(profile, energy, [drone], [inside], 0, { router });
    expect(plan.assignments.size).toBe(0);
    expect(plan.explanations[0]).toMatchObject({ droneId: null, feasible: 0, rejected: { 'no-fly': 1 } });
    expect(plan.explanations[0]!.alternatives[0]).toMatchObject({ droneId: 'd', why: 'no-fly' });
  });

  it('a range that the straight line fits but the detour does not is refused for range', () => {
    const job: PlanJob = { id: 'j', pickup: from, dropoff: to, weightKg: 1 };
    const straightM = trip(new Batch(profile, energy, base), energy, { id: 'd', position: from, home: from, maxPayloadKg: 2, energyWh: 250, maxRangeM: 1e9 }, job, 0).distanceM;
    const drone: PlanDrone = { id: 'd', position: from, home: from, maxPayloadKg: 2, energyWh: 250, maxRangeM: straightM * 1.005 };
    expect(trip(new Batch(profile, energy, base), energy, drone, job, 0).reason).toBeNull();
    expect(trip(new Batch(profile, energy, base, router), energy, drone, job, 0).reason).toBe('range');
  });

  it('never crosses any of several random zones on 60 random legs, and routes are at least the straight length', () => {
    const r = rng(5);
    const zones = Array.from({ length: 4 }, () => square(base.lat + (r() - 0.5) * 0.06, base.lon + (r() - 0.5) * 0.09, 0.002 + r() * 0.006));
    const many = new NoFlyRouter(zones, 30, base, new Batch(profile, energy, base).segmentS);
    let detours = 0;
    for (let k = 0; k < 60; k++) {
      const a = at((r() - 0.5) * 0.08, (r() - 0.5) * 0.12);
      const b = at((r() - 0.5) * 0.08, (r() - 0.5) * 0.12);
      const path = many.path(a, b);
      if (path === null) {
        // Only an end inside a (grown) zone is unreachable here: the zones do not box anything in.
        expect(many.inside(...many.xy(a)) || many.inside(...many.xy(b))).toBe(true);
        continue;
      }
      expect(crosses(path, zones)).toBe(false);
      expect(length(path)).toBeGreaterThanOrEqual(haversineM(a, b) - 0.01);
      if (path.length > 2) detours++;
    }
    expect(detours).toBeGreaterThan(5);
  });
});
