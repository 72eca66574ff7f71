import { describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { FleetHub, MemoryDeviceRegistry, hubConfig } from '../src/index.js';
import { encodeMessage, topics } from '@aerie/contracts';
import { droneStatus } from '../../test-support/fixtures.js';
import { until } from '../../test-support/until.js';

describe('MQTT over WebSocket', () => {
  it('authenticates a drone and takes its status, with the same ACL as TCP', async () => {
    const registry = new MemoryDeviceRegistry();
    const { secret } = await registry.add('drone-001', 'drone');
    const hub = await FleetHub.start(hubConfig({ mqttPort: 0, wsPort: 0 }), { registry, log: () => undefined });
    try {
      expect(hub.wsUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
      const c = await mqtt.connectAsync(hub.wsUrl, { clientId: 'drone-001', username: 'drone-001', password: secret, protocolVersion: 4, reconnectPeriod: 0 });
      await c.publishAsync(topics.status('drone-001'), encodeMessage(droneStatus({ seq: 1 })), { qos: 1 });
      await until(() => hub.fleet.get('drone-001')?.status, 'the status over WebSocket');
      // SUBACK 0x80: mqtt.js rejects the subscription.
      await expect(c.subscribeAsync(topics.command('drone-002'), { qos: 1 })).rejects.toThrow(/Subscribe error/);
      expect(hub.counters.refused.HUB_ERR_ACL_SUBSCRIBE).toBe(1);
      await c.endAsync(true);
    } finally {
      await hub.close();
    }
  });
});
