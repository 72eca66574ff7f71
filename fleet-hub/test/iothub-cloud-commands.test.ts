import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { EventHubProducerClient } from '@azure/event-hubs';
import { encodeMessage, topics, type DeliveryAssignment } from '@aerie/contracts';
import { FleetHub, MemoryDeviceRegistry, hubConfig } from '../src/index.js';
import { startEventHubsEmulator, type EventHubsEmulator } from '../../test-support/eventhubs/emulator.js';
import { startAzurite, type RunningAzurite } from '../../test-support/azurite.js';
import { droneStatus } from '../../test-support/fixtures.js';
import { until } from '../../test-support/until.js';

// Cloud mode reads IoT Hub devices' telemetry through Event Hubs but has no way to command them
// (IoT Hub's service-side C2D / direct-method API is not implemented): it says so at start, and
// a command for such a device is refused with HUB_ERR_NO_COMMAND_ROUTE and counted instead of
// being published where no device listens. Drones on the hub's own broker are commanded as usual.
let eh: EventHubsEmulator;
let azurite: RunningAzurite;

beforeAll(async () => {
  [eh, azurite] = await Promise.all([startEventHubsEmulator({ hub: 'iothub-ehub', partitions: 2, consumerGroups: ['hubs'] }), startAzurite()]);
});
afterAll(async () => {
  await eh?.close();
  await azurite?.stop();
});

const assignment = (deliveryId: string, droneId: string): DeliveryAssignment => ({
  v: 1, deliveryId, droneId, ts: Date.now(), correlationId: `corr-${deliveryId}`, action: 'fly',
  pickup: { lat: 47.399, lon: 8.547 }, dropoff: { lat: 47.401, lon: 8.55 }, cruiseAltM: 30, groundDelayS: 5,
});

describe('cloud mode and commands', () => {
  it('logs at start that it cannot command IoT Hub devices, refuses and counts their commands, and still commands its own MQTT drones', async () => {
    const registry = new MemoryDeviceRegistry();
    const core = (await registry.add('svc-core', 'service')).secret;
    const drone = (await registry.add('drone-mqtt', 'drone')).secret;
    const logs: { line: string; fields: Record<string, unknown> | undefined }[] = [];
    const hub = await FleetHub.start(hubConfig({
      mqttPort: 0, source: 'eventhubs',
      eventHubs: {
        connectionString: eh.connectionString, hubName: eh.hub, consumerGroup: 'hubs', storageConnectionString: azurite.connectionString, container: 'cloud-commands',
        maxBatchSize: 10, maxWaitTimeS: 1, loadBalancingIntervalMs: 300, ownershipExpiryMs: 3_000,
      },
    }), { registry, log: (line, fields) => logs.push({ line, fields }) });
    const producer = new EventHubProducerClient(eh.connectionString, eh.hub);
    const clients: mqtt.MqttClient[] = [];
    try {
      expect(logs.some((l) => /cloud mode: commands .* are NOT dispatched/.test(l.line))).toBe(true);
      // An IoT Hub device's status, as IoT Hub writes it to its built-in endpoint.
      const batch = await producer.createBatch({ partitionKey: 'cloud-001' });
      batch.tryAdd({
        body: Buffer.from(JSON.stringify(droneStatus({ droneId: 'cloud-001', seq: 1 }))), bodyType: 'data',
        messageAnnotations: { 'iothub-connection-device-id': 'cloud-001' }, applicationProperties: { type: 'status' },
      });
      await producer.sendBatch(batch);
      await until(() => hub.fleet.get('cloud-001')?.status, 'the cloud device read through Event Hubs');

      const svc = await mqtt.connectAsync(hub.mqttUrl, { clientId: 'svc-core', username: 'svc-core', password: core, protocolVersion: 4, reconnectPeriod: 0 });
      const own = await mqtt.connectAsync(hub.mqttUrl, { clientId: 'drone-mqtt', username: 'drone-mqtt', password: drone, protocolVersion: 4, reconnectPeriod: 0 });
      clients.push(svc, own);
      const commandTopics: string[] = [];
      svc.on('message', (topic) => commandTopics.push(topic));
      await svc.subscribeAsync('fleet/v1/+/cmd', { qos: 1 });
      const ownGot: string[] = [];
      own.on('message', (_t, p) => ownGot.push(p.toString()));
      await own.subscribeAsync(topics.command('drone-mqtt'), { qos: 1 });

      await svc.publishAsync(topics.assignment('dlv-cloud'), encodeMessage(assignment('dlv-cloud', 'cloud-001')), { qos: 1, retain: true });
      await until(() => hub.counters.rejected.HUB_ERR_NO_COMMAND_ROUTE === 1, 'the cloud device’s mission refused');
      expect(logs.some((l) => l.fields?.code === 'HUB_ERR_NO_COMMAND_ROUTE' && l.fields.droneId === 'cloud-001')).toBe(true);
      // Its own MQTT drone still gets its mission, published after the refused one: had the
      // refused one gone out, the subscriber would have seen it first.
      await svc.publishAsync(topics.assignment('dlv-own'), encodeMessage(assignment('dlv-own', 'drone-mqtt')), { qos: 1, retain: true });
      await until(() => ownGot.find((p) => p.includes('mission-dlv-own')), 'the MQTT drone’s mission');
      await until(() => commandTopics.includes(topics.command('drone-mqtt')), 'the mission seen by the service subscriber');
      expect(commandTopics).not.toContain(topics.command('cloud-001'));
      expect(hub.counters.rejected.HUB_ERR_NO_COMMAND_ROUTE).toBe(1);
    } finally {
      for (const c of clients) await c.endAsync(true);
      await producer.close();
      await hub.close();
    }
  });
});
