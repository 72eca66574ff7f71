import { afterEach, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { FleetHub, MemoryDeviceRegistry, hubConfig } from '../src/index.js';
import { decodeMessage, encodeMessage, subscriptions, topics, type DeliveryAssignment, type DeliveryTracking } from '@aerie/contracts';
import { droneStatus } from '../../test-support/fixtures.js';
import { until } from '../../test-support/until.js';

// Issue 5, ACL: the hub's own clients are separate principals. The hub's MQTT client is a
// principal that exists only in its process (fresh secret per start, never in the registry);
// each service has its own registry principal; revoking one touches no other.

let hub: FleetHub | undefined;
const clients: MqttClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.endAsync(true);
  await hub?.close();
  hub = undefined;
});

describe('the hub and its services are separate principals', () => {
  it("keeps the hub's own principal out of the registry, and a revoked service affects neither the hub nor another service", async () => {
    const registry = new MemoryDeviceRegistry();
    const secrets = new Map<string, string>();
    for (const [id, role] of [['drone-001', 'drone'], ['svc-core', 'service'], ['svc-telemetry', 'service']] as const) secrets.set(id, (await registry.add(id, role)).secret);
    const h = await FleetHub.start(hubConfig({ mqttPort: 0 }), { registry, log: () => undefined });
    hub = h;
    const connect = (username: string, clientId = username) => {
      const c = mqtt.connect(h.mqttUrl, { clientId, username, password: secrets.get(username) ?? 'x', protocolVersion: 4, reconnectPeriod: 0 });
      clients.push(c);
      return new Promise<MqttClient>((resolve, reject) => {
        c.once('connect', () => resolve(c));
        c.once('error', reject);
      });
    };
    // Running, with its own client connected, the hub added no principal to the registry.
    expect(registry.list().map((d) => d.id).sort()).toEqual(['drone-001', 'svc-core', 'svc-telemetry']);
    // A drone cannot take a service's session, nor log in under a hub-like name it made up.
    await expect(connect('drone-001', 'svc-core')).rejects.toMatchObject({ code: 5 });
    await expect(connect('hub-00000000')).rejects.toMatchObject({ code: 4 });
    expect(h.counters.refused).toMatchObject({ HUB_ERR_CLIENT_ID: 1, HUB_ERR_BAD_CREDENTIALS: 1 });

    const telemetry = await connect('svc-telemetry');
    const got: DeliveryTracking[] = [];
    telemetry.on('message', (_t, p) => {
      const d = decodeMessage('DeliveryTracking', p);
      if (d.ok) got.push(d.value);
    });
    await telemetry.subscribeAsync(subscriptions.allTracking, { qos: 1 });
    const core = await connect('svc-core');
    const drone = await connect('drone-001');
    const commands: string[] = [];
    drone.on('message', (t) => commands.push(t));
    await drone.subscribeAsync(topics.command('drone-001'), { qos: 1 });
    const a: DeliveryAssignment = {
      v: 1, deliveryId: 'dlv-p', droneId: 'drone-001', ts: 1, correlationId: 'corr-p', action: 'fly',
      pickup: { lat: 47.399, lon: 8.547 }, dropoff: { lat: 47.401, lon: 8.55 }, cruiseAltM: 30, groundDelayS: 5,
    };
    await core.publishAsync(topics.assignment('dlv-p'), encodeMessage(a), { qos: 1, retain: true });
    await until(() => commands.length > 0, 'the mission command from the hub');

    // Revoking the core's principal drops the core only.
    const coreGone = new Promise<void>((resolve) => core.once('close', () => resolve()));
    await h.revoke('svc-core');
    await coreGone;
    await expect(connect('svc-core')).rejects.toMatchObject({ code: 5 });
    // The hub's own client still commands and publishes; the other service still hears it.
    await drone.publishAsync(topics.status('drone-001'), encodeMessage(droneStatus({ seq: 1, armed: true, landedState: 'TAKEOFF' })), { qos: 1 });
    await until(() => got.find((e) => e.type === 'DeliveryHeadedToPickup' && e.correlationId === 'corr-p'), 'tracking after the revocation');
    expect(telemetry.connected && drone.connected).toBe(true);
  });
});
