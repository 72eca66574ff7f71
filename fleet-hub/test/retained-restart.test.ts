import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { FleetHub, MemoryDeviceRegistry, hubConfig } from '../src/index.js';
import { decodeMessage, encodeMessage, subscriptions, topics, type DeliveryAssignment, type DroneCommand } from '@aerie/contracts';
import { until } from '../../test-support/until.js';
import { droneStatus } from '../../test-support/fixtures.js';

// Regression: aedes' memory persistence forgot every retained assignment when the embedded hub
// restarted, so deliveries in flight were no longer tracked or re-sent.
const clients: MqttClient[] = [];
const hubs: FleetHub[] = [];
const dirs: string[] = [];

const assignment = (deliveryId: string): DeliveryAssignment => ({
  v: 1, deliveryId, droneId: 'drone-001', ts: 1, correlationId: `corr-${deliveryId}`, action: 'fly',
  pickup: { lat: 47.399, lon: 8.547 }, dropoff: { lat: 47.401, lon: 8.55 }, cruiseAltM: 30, groundDelayS: 5,
});

afterEach(async () => {
  for (const c of clients.splice(0)) await c.endAsync(true);
  for (const h of hubs.splice(0)) await h.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('embedded hub restart', () => {
  it('keeps the retained svc/ messages acknowledged before the restart, and forgets the cleared ones', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aerie-hub-retained-'));
    dirs.push(dir);
    const registry = new MemoryDeviceRegistry();
    const secrets: Record<string, string> = {};
    for (const [id, role] of [['drone-001', 'drone'], ['svc-core', 'service']] as const) secrets[id] = (await registry.add(id, role)).secret;
    const start = async () => {
      const hub = await FleetHub.start(hubConfig({ mqttPort: 0, retainedFile: join(dir, 'retained.json') }), { registry, log: () => undefined });
      hubs.push(hub);
      return hub;
    };
    const connect = async (hub: FleetHub, id: string) => {
      const c = await mqtt.connectAsync(hub.mqttUrl, { clientId: id, username: id, password: secrets[id], protocolVersion: 4, reconnectPeriod: 0 });
      clients.push(c);
      return c;
    };

    const first = await start();
    const core = await connect(first, 'svc-core');
    await core.publishAsync(topics.assignment('dlv-kept'), encodeMessage(assignment('dlv-kept')), { qos: 1, retain: true });
    await core.publishAsync(topics.assignment('dlv-done'), encodeMessage(assignment('dlv-done')), { qos: 1, retain: true });
    await core.publishAsync(topics.assignment('dlv-done'), '', { qos: 1, retain: true });
    // Acknowledged means durable: close straight away.
    await core.endAsync(true);
    await first.close();

    const second = await start();
    const core2 = await connect(second, 'svc-core');
    const retained: string[] = [];
    core2.on('message', (topic, payload, packet) => {
      if (packet.retain && payload.length > 0) retained.push(topic);
    });
    await core2.subscribeAsync(subscriptions.allAssignments, { qos: 1 });
    try {
      await until(() => retained.length >= 1, 'the retained assignment after the restart');
    } catch (err) {
      // Says whether the restarted hub's own subscription got the assignment (it sends the mission then).
      throw new Error(`${String(err)}; restarted hub: commands sent ${second.counters.commandsPublished}, rejected ${JSON.stringify(second.counters.rejected)}; subscriber connected ${core2.connected}`, { cause: err });
    }
    expect(retained).toEqual([topics.assignment('dlv-kept')]);

    // The restarted hub tracks the kept delivery again: the drone gets its mission when it comes online.
    const drone = await connect(second, 'drone-001');
    const commands: DroneCommand[] = [];
    drone.on('message', (_t, p) => {
      const d = decodeMessage('DroneCommand', p);
      if (d.ok) commands.push(d.value);
    });
    await drone.subscribeAsync(topics.command('drone-001'), { qos: 1 });
    await drone.publishAsync(topics.online('drone-001'), 'true', { qos: 1, retain: true });
    // The mission goes once a status says the agent hears its flight controller (dispatch.ts, hold).
    await drone.publishAsync(topics.status('drone-001'), encodeMessage(droneStatus({ seq: 1 })), { qos: 1 });
    const cmd = await until(() => commands[0], 'the kept delivery mission');
    expect(cmd.commandId).toBe('mission-dlv-kept');
  });
});
