import { afterEach, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { FleetHub, MemoryDeviceRegistry, hubConfig } from '../src/index.js';
import { encodeMessage, topics } from '@aerie/contracts';
import { droneStatus } from '../../test-support/fixtures.js';
import { until } from '../../test-support/until.js';

// Issue 5: a message on a topic the hub does not handle is refused, counted and logged with the
// drone id, never a crash. On the embedded broker a drone's unknown channel, even under its own
// id, fails the ACL (only status, events, online and cmd/result are a drone's); MQTT 3.1.1 has
// no negative PUBACK, so aedes closes that connection and the drone's next one carries on.

let hub: FleetHub | undefined;
const clients: MqttClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.endAsync(true);
  await hub?.close();
  hub = undefined;
});

describe('unknown topics from a drone', () => {
  it('refuses its own unknown channels and look-alikes of its status topic, counts and logs each with the drone id, and takes its next status', async () => {
    const registry = new MemoryDeviceRegistry();
    const { secret } = await registry.add('drone-001', 'drone');
    const logs: string[] = [];
    const h = await FleetHub.start(hubConfig({ mqttPort: 0 }), { registry, log: (l) => logs.push(l) });
    hub = h;
    const connect = async () => {
      const c = await mqtt.connectAsync(h.mqttUrl, { clientId: 'drone-001', username: 'drone-001', password: secret, protocolVersion: 4, reconnectPeriod: 0 });
      clients.push(c);
      return c;
    };
    const unknown = ['fleet/v1/drone-001/bogus', `${topics.status('drone-001')}/extra`, 'fleet/v1/drone-001/statu', 'fleet/v2/drone-001/status'];
    for (const [i, topic] of unknown.entries()) {
      const c = await connect();
      const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
      c.publish(topic, encodeMessage(droneStatus({ seq: i + 1 })), { qos: (i % 2) as 0 | 1 });
      await closed;
      await until(() => hub!.counters.refused.HUB_ERR_ACL_PUBLISH === i + 1, `the refusal of ${topic}`);
      expect(logs).toContainEqual(expect.stringContaining(`HUB_ERR_ACL_PUBLISH client=drone-001 principal=drone-001 topic=${topic}`));
    }
    expect(h.fleet.get('drone-001')?.status).toBeUndefined();
    expect(h.counters.statuses).toBe(0);
    const c = await connect();
    await c.publishAsync(topics.status('drone-001'), encodeMessage(droneStatus({ seq: 10 })), { qos: 1 });
    await until(() => h.fleet.get('drone-001')?.status?.seq === 10, 'the next status taken');
    expect(h.counters.refused).toEqual({ HUB_ERR_ACL_PUBLISH: unknown.length });
  });
});
