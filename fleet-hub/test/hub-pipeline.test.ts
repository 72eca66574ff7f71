import { afterEach, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { FleetHub, MemoryDeviceRegistry, MemoryTelemetryWriter, hubConfig } from '../src/index.js';
import { decodeMessage, encodeMessage, subscriptions, topics, type DeliveryAssignment, type DeliveryTracking } from '@aerie/contracts';
import { droneStatus } from '../../test-support/fixtures.js';
import { until } from '../../test-support/until.js';

let hub: FleetHub | undefined;
const clients: MqttClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.endAsync(true);
  await hub?.close();
});

// The hub's clock, moved by hand: staleness is judged on it (its 1 s tick is a real timer).
let nowMs = Date.now();
const clock = {
  now: () => nowMs,
  setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
  clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout),
  setInterval: (fn: () => void, ms: number) => setInterval(fn, ms),
  clearInterval: (h: unknown) => clearInterval(h as NodeJS.Timeout),
};

async function start(overrides: Parameters<typeof hubConfig>[0], writer = new MemoryTelemetryWriter()) {
  nowMs = Date.now();
  const registry = new MemoryDeviceRegistry();
  const secrets = new Map<string, string>();
  for (const [id, role] of [['drone-001', 'drone'], ['drone-002', 'drone'], ['svc-core', 'service']] as const) secrets.set(id, (await registry.add(id, role)).secret);
  hub = await FleetHub.start(hubConfig({ mqttPort: 0, ...overrides }), { registry, writer, clock, log: () => undefined });
  const connect = async (id: string) => {
    const c = await mqtt.connectAsync(hub!.mqttUrl, { clientId: id, username: id, password: secrets.get(id), protocolVersion: 4, reconnectPeriod: 0 });
    clients.push(c);
    return c;
  };
  return { hub, connect };
}

describe('hub pipeline end to end', () => {
  it('under a flood past its bound, every status is either written or counted as shed, and the newest always wins', async () => {
    const writer = new MemoryTelemetryWriter();
    const { hub, connect } = await start({ maxPendingStatuses: 1, droneMsgPerSec: 1e6, droneBurst: 1e6 }, writer);
    const drones = await Promise.all(['drone-001', 'drone-002'].map(connect));
    const perDrone = 2_000;
    await Promise.all(drones.map((c, i) => {
      const id = `drone-00${i + 1}`;
      return Promise.all(Array.from({ length: perDrone }, (_, k) =>
        c.publishAsync(topics.status(id), encodeMessage(droneStatus({ droneId: id, seq: k + 1 })), { qos: 1 })));
    }));
    await until(() => writer.written + hub.counters.shed.statuses === 2 * perDrone, 'every status accounted for');
    expect(hub.counters.statuses).toBe(writer.written);
    expect(hub.counters.rejected).toEqual({});
    for (const id of ['drone-001', 'drone-002']) expect(hub.fleet.get(id)?.status?.seq).toBe(perDrone);
    expect(hub.ingestStats()).toMatchObject({ pendingStatuses: 0, pendingEvents: 0, shedStatuses: hub.counters.shed.statuses });
  });

  it('publishes alerts on svc/v1/alerts, not on the tracking topic, and raises telemetry_stale on its own tick', async () => {
    const { connect } = await start({});
    const core = await connect('svc-core');
    const got: { topic: string; e: DeliveryTracking }[] = [];
    core.on('message', (topic, p) => {
      const d = decodeMessage('DeliveryTracking', p);
      if (d.ok) got.push({ topic, e: d.value });
    });
    await core.subscribeAsync([subscriptions.allTracking, subscriptions.allAlerts], { qos: 1 });
    const drone = await connect('drone-001');
    const a: DeliveryAssignment = {
      v: 1, deliveryId: 'dlv-a', droneId: 'drone-001', ts: Date.now(), correlationId: 'corr-a', action: 'fly',
      pickup: { lat: 47.399, lon: 8.547 }, dropoff: { lat: 47.401, lon: 8.55 }, cruiseAltM: 30, groundDelayS: 5,
    };
    await core.publishAsync(topics.assignment('dlv-a'), encodeMessage(a), { qos: 1, retain: true });
    const fs = droneStatus({ seq: 1, ts: Date.now(), armed: true, landedState: 'IN_AIR', flightMode: 'RETURN', health: { sensorsHealthy: true, failsafe: true } });
    await until(() => {
      // The hub may not have the assignment yet: resend (same seq is deduped once applied).
      drone.publish(topics.status('drone-001'), encodeMessage(fs), { qos: 1 });
      return got.find((g) => g.e.alert === 'failsafe');
    }, 'the failsafe alert');
    expect(got.find((g) => g.e.alert === 'failsafe')).toMatchObject({ topic: 'svc/v1/alerts/dlv-a', e: { type: 'DeliveryAlert', correlationId: 'corr-a' } });
    expect(got.filter((g) => g.topic.startsWith('svc/v1/tracking/')).every((g) => g.e.type !== 'DeliveryAlert')).toBe(true);
    // No status for 15 s of the hub's clock: the hub's 1 s tick raises telemetry_stale.
    nowMs += 15_000;
    const stale = await until(() => got.find((g) => g.e.alert === 'telemetry_stale'), 'the stale alert');
    expect(stale.topic).toBe('svc/v1/alerts/dlv-a');
  });
});
