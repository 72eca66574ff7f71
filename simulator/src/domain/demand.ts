import type { LatLon } from '@aerie/contracts';
import { Rng } from './random.js';

// Simulated demand for the demo, the distributed mode and its benches: one generator, so a seed
// asks for the same deliveries wherever it runs.

/** A seeded uniform source in [0, 1) (the simulator's mulberry32), so a run's demand can be repeated. */
export function seededRandom(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.next();
}

/** A point at a random bearing, between minM and maxM metres from `center`. */
export function pointNear(center: LatLon, minM: number, maxM: number, rnd: () => number): LatLon {
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
