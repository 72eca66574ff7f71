import { connect } from 'node:net';
import { once } from 'node:events';
import mqttPacket from 'mqtt-packet';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { FleetHub, MemoryDeviceRegistry, hubConfig } from '../src/index.js';
import { encodeMessage, topics } from '@aerie/contracts';
import { droneStatus } from '../../test-support/fixtures.js';
import { until } from '../../test-support/until.js';

let hub: FleetHub;
let drone: MqttClient;
const logs: string[] = [];

beforeEach(async () => {
  const registry = new MemoryDeviceRegistry();
  const { secret } = await registry.add('drone-001', 'drone');
  logs.length = 0;
  hub = await FleetHub.start(hubConfig({ mqttPort: 0, droneMsgPerSec: 5, droneBurst: 5, maxPayloadBytes: 2048 }), { registry, log: (l) => logs.push(l) });
  drone = await mqtt.connectAsync(hub.mqttUrl, { clientId: 'drone-001', username: 'drone-001', password: secret, protocolVersion: 4, reconnectPeriod: 0 });
});
afterEach(async () => {
  await drone.endAsync(true);
  await hub.close();
});

describe('per-connection limits: the excess is refused and counted, the connection stays', () => {
  it('refuses statuses past the rate limit and keeps the ones within it', async () => {
    const sent = 100;
    await Promise.all(Array.from({ length: sent }, (_, i) =>
      drone.publishAsync(topics.status('drone-001'), encodeMessage(droneStatus({ seq: i + 1 })), { qos: 1 })));
    const refused = hub.counters.refused.HUB_ERR_RATE ?? 0;
    expect(refused).toBeGreaterThan(0);
    await until(() => hub.counters.statuses === sent - refused, 'the statuses within the limit processed');
    expect(drone.connected).toBe(true);
    // A flood is logged once a second per connection, not once per message.
    expect(logs.filter((l) => l.includes('HUB_ERR_RATE')).length).toBeLessThan(refused);
    expect(logs.find((l) => l.includes('HUB_ERR_RATE'))).toContain('client=drone-001');
  });

  it('refuses an oversized payload with its client id, topic and reason, and stays connected', async () => {
    const big = encodeMessage({ ...droneStatus({ seq: 1 }), flightModeRaw: 'x'.repeat(4096) });
    await drone.publishAsync(topics.status('drone-001'), big, { qos: 1 });
    expect(hub.counters.refused.HUB_ERR_TOO_LARGE).toBe(1);
    expect(logs).toContainEqual(expect.stringMatching(/HUB_ERR_TOO_LARGE client=drone-001 .*topic=fleet\/v1\/drone-001\/status/));
    await drone.publishAsync(topics.status('drone-001'), encodeMessage(droneStatus({ seq: 2 })), { qos: 1 });
    await until(() => hub.counters.statuses === 1, 'the next status accepted');
    expect(hub.fleet.get('drone-001')?.status?.seq).toBe(2);
  });
});

describe('per-connection limit: inbound QoS 2 inflight', () => {
  it('closes a connection past maxInflightInbound, counting and logging the refusal; the hub and other drones go on', async () => {
    const registry = new MemoryDeviceRegistry();
    const { secret } = await registry.add('drone-002', 'drone');
    const { secret: other } = await registry.add('drone-003', 'drone');
    const lines: string[] = [];
    const small = await FleetHub.start(hubConfig({ mqttPort: 0, maxInflightInbound: 3 }), { registry, log: (l) => lines.push(l) });
    const sock = connect(small.mqttPort, '127.0.0.1');
    try {
      await once(sock, 'connect');
      const received: string[] = [];
      const parser = mqttPacket.parser({ protocolVersion: 4 });
      parser.on('packet', (p) => received.push(p.cmd));
      sock.on('data', (b: Buffer) => parser.parse(b));
      sock.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'drone-002', username: 'drone-002', password: Buffer.from(secret), clean: true, keepalive: 60 }));
      await until(() => received.includes('connack'), 'the CONNACK');
      // Six QoS 2 publishes, none released (no PUBREL): the fourth is over the limit of three.
      for (let i = 1; i <= 6; i++) {
        sock.write(mqttPacket.generate({ cmd: 'publish', topic: topics.status('drone-002'), payload: Buffer.from(encodeMessage(droneStatus({ droneId: 'drone-002', seq: i }))), qos: 2, messageId: i, retain: false, dup: false }));
      }
      // Each publish past the limit (the 4th, 5th and 6th, read in one chunk) is refused and counted.
      await until(() => (small.counters.refused.HUB_ERR_INFLIGHT ?? 0) >= 1, 'the inflight refusal counted');
      expect(small.counters.statuses).toBeLessThanOrEqual(3);
      await until(() => sock.destroyed || sock.readableEnded, 'the connection closed');
      expect(lines).toContainEqual(expect.stringMatching(/HUB_ERR_INFLIGHT client=drone-002/));
      // A well-behaved drone is still served.
      const good = await mqtt.connectAsync(small.mqttUrl, { clientId: 'drone-003', username: 'drone-003', password: other, protocolVersion: 4, reconnectPeriod: 0 });
      await good.publishAsync(topics.status('drone-003'), encodeMessage(droneStatus({ droneId: 'drone-003', seq: 1 })), { qos: 1 });
      await until(() => small.fleet.get('drone-003')?.status?.seq === 1, 'the other drone served');
      await good.endAsync(true);
    } finally {
      sock.destroy();
      await small.close();
    }
  });
});
