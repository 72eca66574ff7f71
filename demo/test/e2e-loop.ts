import { expect } from 'vitest';
import { haversineM, type LatLon } from '@aerie/contracts';
import type { StageChange } from '@aerie/delivery-core';
import { startStack, type BrokerChoice, type RunningStack } from '../src/stack.js';
import { until } from '../../test-support/until.js';

const home = { lat: 47.3977, lon: 8.5456, altMsl: 488 };
export const pickup: LatLon = { lat: 47.3991, lon: 8.5468 };
export const dropoff: LatLon = { lat: 47.4012, lon: 8.5449 };


/**
 * The whole loop, every hop real: a delivery request over HTTP, assignment, a mission over MQTT
 * and MAVLink, a simulated flight under time warp, telemetry back up, stages from geofences.
 */
export async function flyOneDelivery(broker: BrokerChoice): Promise<void> {
  const logs: string[] = [];
  const stack: RunningStack = await startStack({ drones: 3, speedup: 10, home, broker, dataDir: null, log: (l) => logs.push(l) });
  try {
    const stages: StageChange['stage'][] = [];
    const etas: (number | null)[] = [];
    stack.core.service.onStageChange((d, c) => {
      if (d.id === 'e2e-1') {
        stages.push(c.stage);
        etas.push(d.eta);
      }
    });
    // Every drone reports in through agent → broker → core before the request.
    await until(() => stack.droneIds.every((id) => stack.hub.fleet.get(id)?.status?.position), 'statuses from every drone', 20_000);

    const res = await fetch(`${stack.core.url}/api/v1/deliveries/e2e-1`, {
      method: 'PUT', headers: { 'content-type': 'application/json', 'x-correlation-id': 'e2e-corr' }, body: JSON.stringify({ pickup, dropoff }),
    });
    expect(res.status).toBe(202);
    expect(res.headers.get('location')).toBe('/api/v1/deliveries/e2e-1');

    // Bounded in real time; the flight itself takes about two virtual minutes (≈12 s at 10×).
    await until(() => stages.includes('Completed') || stages.includes('Failed'), `completion (stages so far: ${stages.join(' → ')}; log: ${logs.slice(-5).join(' | ')})`, 90_000);
    expect(stages).toEqual(['Requested', 'Scheduled', 'HeadedToPickup', 'PickedUp', 'HeadedToDropoff', 'Completed']);
    expect(etas[1]).toBeGreaterThan(0);
    // Completed by the gripper's release (the mission's DO_GRIPPER item, reported by the agent), not the landing fallback.
    expect(logs).toContain('tracking DeliveryCompleted delivery=e2e-1 (payload released at the dropoff)');

    const body = (await (await fetch(`${stack.core.url}/api/v1/deliveries/e2e-1`)).json()) as {
      stage: string; droneId: string; correlationId: string; lastPosition: LatLon; stageHistory: { stage: string }[];
    };
    expect(body).toMatchObject({ stage: 'Completed', correlationId: 'e2e-corr' });
    expect(haversineM(body.lastPosition, dropoff)).toBeLessThan(15);

    // The drone's DroneStatus history moved along the route: home → pickup → dropoff.
    const track = (await (await fetch(`${stack.telemetryUrl}/api/v1/drones/${body.droneId}/track?from=0&to=${stack.clock.now() + 1000}`)).json()) as {
      points: { ts: number; lat: number; lon: number; altRel: number }[];
    };
    const pts = track.points;
    expect(pts.length).toBeGreaterThan(20);
    const nearest = (p: LatLon) => pts.reduce((best, q, i) => (haversineM(q, p) < haversineM(pts[best]!, p) ? i : best), 0);
    const iPickup = nearest(pickup);
    const iDropoff = nearest(dropoff);
    expect(haversineM(pts[iPickup]!, pickup)).toBeLessThan(10);
    expect(haversineM(pts[iDropoff]!, dropoff)).toBeLessThan(10);
    expect(iPickup).toBeLessThan(iDropoff);
    expect(Math.max(...pts.map((p) => p.altRel))).toBeGreaterThan(25);
    for (let i = 1; i < pts.length; i++) expect(pts[i]!.ts).toBeGreaterThanOrEqual(pts[i - 1]!.ts);

    // Nothing on the way was malformed or refused.
    expect(stack.hub.counters.rejected.HUB_ERR_PAYLOAD ?? 0).toBe(0);
    expect(stack.hub.counters.refused).toEqual({});
    expect(stack.core.rejected).toEqual({});
    expect(stack.telemetry.ingest.stats().rejected).toEqual({});
  } finally {
    await stack.stop();
  }
}
