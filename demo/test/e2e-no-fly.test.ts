import { describe, expect, it } from 'vitest';
import { booleanPointInPolygon, point, polygon } from '@turf/turf';
import { haversineM, type LatLon } from '@aerie/contracts';
import type { StageChange } from '@aerie/delivery-core';
import { startStack } from '../src/stack.js';
import { until } from '../../test-support/until.js';

const home = { lat: 47.3977, lon: 8.5456, altMsl: 488 };
const pickup: LatLon = { lat: 47.3991, lon: 8.5468 };
const dropoff: LatLon = { lat: 47.4012, lon: 8.5449 };
// Across both the pickup → dropoff and the dropoff → home straight lines; home → pickup is clear.
const zone = polygon([[[8.5443, 47.3998], [8.5462, 47.3998], [8.5462, 47.4004], [8.5443, 47.4004], [8.5443, 47.3998]]], { name: 'stadium' });
const inZone = (p: LatLon) => booleanPointInPolygon(point([p.lon, p.lat]), zone);

describe('end to end round a no-fly zone', () => {
  it('the simulated drone flies the routed mission: no DroneStatus position inside the zone, and the delivery completes', async () => {
    // The straight legs would cross it: the test means something only if they do.
    const crosses = (a: LatLon, b: LatLon) => Array.from({ length: 101 }, (_, i) => ({ lat: a.lat + (i / 100) * (b.lat - a.lat), lon: a.lon + (i / 100) * (b.lon - a.lon) })).some(inZone);
    expect(crosses(pickup, dropoff) && crosses(dropoff, home) && !crosses(home, pickup)).toBe(true);

    const logs: string[] = [];
    const stack = await startStack({
      drones: 1, speedup: 10, home, broker: { kind: 'embedded' }, dataDir: null, log: (l) => logs.push(l),
      scheduling: { noFlyZones: [zone], noFlyMarginM: 20 },
    });
    try {
      const droneId = stack.droneIds[0]!;
      const stages: StageChange['stage'][] = [];
      stack.core.service.onStageChange((d, c) => { if (d.id === 'nfz-1') stages.push(c.stage); });
      await until(() => stack.hub.fleet.get(droneId)?.status?.position, 'a status from the drone', 20_000);
      const res = await fetch(`${stack.core.url}/api/v1/deliveries/nfz-1`, {
        method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pickup, dropoff }),
      });
      expect(res.status).toBe(202);
      await until(() => stages.includes('Completed') || stages.includes('Failed'), `completion (stages so far: ${stages.join(' → ')}; log: ${logs.slice(-5).join(' | ')})`, 90_000);
      expect(stages).toEqual(['Requested', 'Scheduled', 'HeadedToPickup', 'PickedUp', 'HeadedToDropoff', 'Completed']);
      // And home again: RTL's last stretch follows the routed way back.
      await until(() => {
        const s = stack.hub.fleet.get(droneId)?.status;
        return s?.position && s.landedState === 'ON_GROUND' && haversineM(s.position, home) < 10;
      }, 'the drone back on its pad', 60_000);

      const track = (await (await fetch(`${stack.telemetryUrl}/api/v1/drones/${droneId}/track?from=0&to=${stack.clock.now() + 1000}&limit=50000`)).json()) as {
        points: { ts: number; lat: number; lon: number; altRel: number }[];
      };
      const pts = track.points;
      expect(pts.length).toBeGreaterThan(50);
      expect(Math.min(...pts.map((p) => haversineM(p, dropoff)))).toBeLessThan(10);
      expect(pts.filter(inZone)).toEqual([]);
      // It went round, not merely missed: some point west or east of the zone at the zone's latitudes.
      expect(pts.some((p) => p.lat > 47.3998 && p.lat < 47.4004)).toBe(true);
      expect(stack.hub.counters.rejected.HUB_ERR_PAYLOAD ?? 0).toBe(0);
    } finally {
      await stack.stop();
    }
  }, 150_000);
});
