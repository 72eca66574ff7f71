import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { FleetHub, MemoryDeviceRegistry, hubConfig, HubErrorCodes } from '../src/index.js';
import { encodeMessage, topics } from '@aerie/contracts';
import { droneStatus } from '../../test-support/fixtures.js';
import { until } from '../../test-support/until.js';

let hub: FleetHub;
let registry: MemoryDeviceRegistry;
const secrets: Record<string, string> = {};
const clients: MqttClient[] = [];
const logs: string[] = [];


function connect(username: string, password: string, clientId = username): Promise<MqttClient> {
  const c = mqtt.connect(hub.mqttUrl, { clientId, username, password, protocolVersion: 4, reconnectPeriod: 0 });
  clients.push(c);
  return new Promise((resolve, reject) => {
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
}

beforeEach(async () => {
  registry = new MemoryDeviceRegistry();
  for (const [id, role] of [['drone-001', 'drone'], ['drone-002', 'drone'], ['svc-test', 'service']] as const) {
    secrets[id] = (await registry.add(id, role)).secret;
  }
  logs.length = 0;
  hub = await FleetHub.start(hubConfig({ mqttPort: 0 }), { registry, log: (l) => logs.push(l) });
});

afterEach(async () => {
  for (const c of clients.splice(0)) await c.endAsync(true);
  await hub.close();
});

describe('broker identity and ACL', () => {
  it('has a stable error catalogue', () => {
    expect(Object.keys(HubErrorCodes)).toMatchInlineSnapshot(`
      [
        "HUB_ERR_BAD_CREDENTIALS",
        "HUB_ERR_REVOKED",
        "HUB_ERR_CLIENT_ID",
        "HUB_ERR_ACL_PUBLISH",
        "HUB_ERR_ACL_SUBSCRIBE",
        "HUB_ERR_PAYLOAD",
        "HUB_ERR_TOPIC_MISMATCH",
        "HUB_ERR_UNKNOWN_TOPIC",
        "HUB_ERR_DUPLICATE",
        "HUB_ERR_TOO_LARGE",
        "HUB_ERR_RATE",
        "HUB_ERR_INFLIGHT",
        "HUB_ERR_DEVICE_EXISTS",
        "HUB_ERR_NO_DEVICE",
        "HUB_ERR_BAD_ID",
        "HUB_ERR_CONFIG",
        "HUB_ERR_C2D_QUEUE_FULL",
        "HUB_ERR_C2D_EXPIRED",
        "HUB_ERR_NO_COMMAND_ROUTE",
      ]
    `);
  });

  it('refuses wrong credentials with CONNACK 4 and counts them', async () => {
    await expect(connect('drone-001', 'wrong')).rejects.toMatchObject({ code: 4 });
    await expect(connect('nobody', 'x')).rejects.toMatchObject({ code: 4 });
    expect(hub.counters.refused.HUB_ERR_BAD_CREDENTIALS).toBe(2);
    expect(logs.some((l) => l.includes('HUB_ERR_BAD_CREDENTIALS') && l.includes('client=drone-001'))).toBe(true);
  });

  it("refuses a drone that connects under another drone's client id", async () => {
    await expect(connect('drone-001', secrets['drone-001']!, 'drone-002')).rejects.toMatchObject({ code: 5 });
    expect(hub.counters.refused.HUB_ERR_CLIENT_ID).toBe(1);
  });

  it("drops a drone's publish under another drone's id; the fleet state never sees it", async () => {
    const spy = await connect('svc-test', secrets['svc-test']!);
    const seen: string[] = [];
    spy.on('message', (t) => seen.push(t));
    await spy.subscribeAsync('fleet/v1/+/status', { qos: 1 });
    const d1 = await connect('drone-001', secrets['drone-001']!);
    // MQTT 3.1.1 has no negative PUBACK: aedes closes the offending connection instead.
    d1.publish(topics.status('drone-002'), encodeMessage(droneStatus({ droneId: 'drone-002' })), { qos: 1 });
    await until(() => hub.counters.refused.HUB_ERR_ACL_PUBLISH === 1, 'ACL refusal');
    const d2 = await connect('drone-002', secrets['drone-002']!);
    await d2.publishAsync(topics.status('drone-002'), encodeMessage(droneStatus({ droneId: 'drone-002', seq: 1 })), { qos: 1 });
    await until(() => seen.length === 1, 'the legitimate status');
    expect(hub.fleet.get('drone-002')?.status?.seq).toBe(1);
    expect(logs.some((l) => l.includes('HUB_ERR_ACL_PUBLISH') && l.includes('principal=drone-001') && l.includes('fleet/v1/drone-002/status'))).toBe(true);
  });

  it("refuses a drone's subscription to another drone's commands (SUBACK 0x80)", async () => {
    const d1 = await connect('drone-001', secrets['drone-001']!);
    // mqtt.js turns a SUBACK return code 0x80 into a rejected subscribe.
    await expect(d1.subscribeAsync(topics.command('drone-002'), { qos: 1 })).rejects.toThrow(/Subscribe error/);
    expect(hub.counters.refused.HUB_ERR_ACL_SUBSCRIBE).toBe(1);
    const own = await d1.subscribeAsync(topics.command('drone-001'), { qos: 1 });
    expect(own[0]?.qos).toBe(1);
  });

  it('rejects malformed and mismatched payloads, counts them and stays up', async () => {
    const d1 = await connect('drone-001', secrets['drone-001']!);
    await d1.publishAsync(topics.status('drone-001'), '{not json', { qos: 1 });
    await d1.publishAsync(topics.status('drone-001'), encodeMessage({ ...droneStatus(), battery: 'full' }), { qos: 1 });
    await d1.publishAsync(topics.status('drone-001'), encodeMessage(droneStatus({ seq: 5 })), { qos: 1 });
    await d1.publishAsync(topics.status('drone-001'), encodeMessage(droneStatus({ seq: 5 })), { qos: 1 });
    await until(() => hub.counters.statuses === 1 && (hub.counters.rejected.HUB_ERR_PAYLOAD ?? 0) === 2 && hub.counters.rejected.HUB_ERR_DUPLICATE === 1, 'counts');
  });

  it('revocation disconnects the drone at once and refuses it afterwards', async () => {
    const d1 = await connect('drone-001', secrets['drone-001']!);
    const closed = new Promise<void>((r) => d1.once('close', () => r()));
    await hub.revoke('drone-001');
    await closed;
    await expect(connect('drone-001', secrets['drone-001']!)).rejects.toMatchObject({ code: 5 });
    expect(hub.counters.refused.HUB_ERR_REVOKED).toBe(1);
  });
});
