import type { LatLon } from '@aerie/contracts';

// The demo's request generator (demo/src/requests.ts; the demo package publishes no entry to import).

/** mulberry32: a small seeded PRNG, so a run's demand can be repeated. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A point at a random bearing, between minM and maxM metres from `center`. */
function pointNear(center: LatLon, minM: number, maxM: number, rnd: () => number): LatLon {
  const r = minM + (maxM - minM) * rnd();
  const bearing = 2 * Math.PI * rnd();
  const dLat = (r * Math.cos(bearing)) / 111_320;
  const dLon = (r * Math.sin(bearing)) / (111_320 * Math.cos((center.lat * Math.PI) / 180));
  return { lat: +(center.lat + dLat).toFixed(7), lon: +(center.lon + dLon).toFixed(7) };
}

/** A delivery request as a business would send it: pickup at a shop near the depot, dropoff nearby. */
export function randomRequest(depot: LatLon, rnd: () => number): { pickup: LatLon; dropoff: LatLon } {
  const pickup = pointNear(depot, 100, 300, rnd);
  return { pickup, dropoff: pointNear(pickup, 200, 450, rnd) };
}
