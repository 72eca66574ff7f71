import type { LatLon } from '@aerie/contracts';
import { polygon } from '@turf/turf';
import type { ZoneFeature } from '../domain/routing.js';
import type { EnergyModel, PlanDrone, PlanJob } from '../domain/planner.js';
import type { FlightProfile } from '../domain/eta.js';

/** mulberry32: a seeded PRNG so every run (and the test) sees the same instance. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CENTER: LatLon = { lat: 47.3769, lon: 8.5417 };
/** ~1 km in degrees of latitude / of longitude at Zurich. */
const KM_LAT = 1 / 111.2;
const KM_LON = 1 / 75.3;

function around(r: () => number, km: number): LatLon {
  return { lat: CENTER.lat + (r() * 2 - 1) * km * KM_LAT, lon: CENTER.lon + (r() * 2 - 1) * km * KM_LON };
}

export const benchProfile: FlightProfile = { cruiseSpeedMs: 12, climbRateMs: 3, descentRateMs: 1.5, cruiseAltM: 30, groundDelayS: 30, wind: { speedMs: 6, fromDeg: 250 } };
export const benchEnergy: EnergyModel = { basePowerW: 450, perKgPowerW: 90, reserveFraction: 0.2, capacityWh: 250 };

/**
 * A city-sized instance: drones spread over 10 bases with mixed airframes (light and heavy
 * lifters) and battery levels, jobs with mixed weights, some with deadlines. Built so that hard
 * constraints bind: nearest-first spends heavy lifters and full batteries on easy jobs.
 */
export function instance(n: number, seed: number, now: number): { drones: PlanDrone[]; jobs: PlanJob[] } {
  const r = rng(seed);
  const bases = Array.from({ length: 10 }, () => around(r, 5));
  const drones: PlanDrone[] = Array.from({ length: n }, (_, i) => {
    const home = bases[i % bases.length]!;
    const heavy = r() < 0.3;
    return {
      id: `drone-${String(i).padStart(4, '0')}`,
      position: { lat: home.lat + (r() - 0.5) * 0.01, lon: home.lon + (r() - 0.5) * 0.01 },
      home,
      maxPayloadKg: heavy ? 5 : 2,
      energyWh: benchEnergy.capacityWh * (0.3 + r() * 0.7),
      maxRangeM: heavy ? 30_000 : 40_000,
    };
  });
  const jobs: PlanJob[] = Array.from({ length: n }, (_, i) => {
    const pickup = around(r, 6);
    const dropoff = { lat: pickup.lat + (r() - 0.5) * 6 * KM_LAT, lon: pickup.lon + (r() - 0.5) * 6 * KM_LON };
    const weightKg = r() < 0.25 ? 2 + r() * 3 : 0.2 + r() * 1.6;
    return { id: `job-${String(i).padStart(4, '0')}`, pickup, dropoff, weightKg, ...(r() < 0.3 ? { deadline: now + (15 + r() * 20) * 60_000 } : {}) };
  });
  return { drones, jobs };
}

/** Three no-fly zones across the bench city: an airfield-sized block, a strip, a small square (about 1–3 km). */
export function benchZones(): ZoneFeature[] {
  const box = (cLat: number, cLon: number, hLatKm: number, hLonKm: number) => {
    const [a, b, c, d] = [cLat - hLatKm * KM_LAT, cLat + hLatKm * KM_LAT, cLon - hLonKm * KM_LON, cLon + hLonKm * KM_LON];
    return polygon([[[c, a], [d, a], [d, b], [c, b], [c, a]]]);
  };
  return [box(CENTER.lat + 2 * KM_LAT, CENTER.lon - 1 * KM_LON, 1.5, 1), box(CENTER.lat - 2.5 * KM_LAT, CENTER.lon + 2 * KM_LON, 0.4, 2.5), box(CENTER.lat, CENTER.lon + 4 * KM_LON, 0.5, 0.5)];
}
