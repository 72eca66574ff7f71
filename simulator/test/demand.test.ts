import { describe, expect, it } from 'vitest';
import { haversineM } from '@aerie/contracts';
import { randomRequest, seededRandom } from '../src/index.js';

describe('simulated demand', () => {
  it('repeats for a seed, differs across seeds, and stays within the depot\'s reach', () => {
    const depot = { lat: 47.3977, lon: 8.5456 };
    const run = (seed: number) => { const rnd = seededRandom(seed); return Array.from({ length: 50 }, () => randomRequest(depot, rnd)); };
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
    for (const r of run(7)) {
      const toPickup = haversineM(depot, r.pickup);
      const leg = haversineM(r.pickup, r.dropoff);
      expect(toPickup).toBeGreaterThanOrEqual(99);
      expect(toPickup).toBeLessThanOrEqual(301);
      expect(leg).toBeGreaterThanOrEqual(199);
      expect(leg).toBeLessThanOrEqual(451);
    }
  });
});
