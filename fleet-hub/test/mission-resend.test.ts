import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { FleetHub, MemoryDeviceRegistry, hubConfig } from '../src/index.js';
import { decodeMessage, encodeMessage, topics, type CommandResult, type DeliveryAssignment, type DroneCommand } from '@aerie/contracts';
import { until } from '../../test-support/until.js';
import { droneStatus } from '../../test-support/fixtures.js';

// Regression: a mission dispatched while its drone was offline was lost (the drone's new clean
// session holds no queued messages), so the demo had to start the core last.
let hub: FleetHub;
const clients: MqttClient[] = [];
const secrets: Record<string, string> = {};

const assignment: DeliveryAssignment = {
  v: 1, deliveryId: 'dlv-off', droneId: 'drone-001', ts: 1, correlationId: 'corr-off', action: 'fly',
  pickup: { lat: 47.399, lon: 8.547 }, dropoff: { lat: 47.401, lon: 8.55 }, cruiseAltM: 30, groundDelayS: 5,
};

async function connect(id: string): Promise<MqttClient> {
  const c = await mqtt.connectAsync(hub.mqttUrl, { clientId: id, username: id, password: secrets[id], protocolVersion: 4, reconnectPeriod: 0, clean: true });
  clients.push(c);
  return c;
}

let seq = 0;
/**
 * Connects the way edge-agent does (clean session, retained online=true, then the command
 * subscription), then reports a status saying it hears its flight controller: the hub re-sends
 * a held mission only then (an agent answers AGENT_ERR_NO_LINK before its FC link is up).
 */
async function droneOnline(received: DroneCommand[]): Promise<MqttClient> {
  const drone = await connect('drone-001');
  drone.on('message', (_t, p) => {
    const d = decodeMessage('DroneCommand', p);
    if (d.ok) received.push(d.value);
  });
  await drone.subscribeAsync(topics.command('drone-001'), { qos: 1 });
  await drone.publishAsync(topics.online('drone-001'), 'true', { qos: 1, retain: true });
  seq += 1;
  await drone.publishAsync(topics.status('drone-001'), encodeMessage(droneStatus({ seq, link: { fcConnected: true, fcHeartbeatAgeMs: 100 } })), { qos: 1 });
  return drone;
}

async function goOffline(drone: MqttClient): Promise<void> {
  await drone.publishAsync(topics.online('drone-001'), 'false', { qos: 1, retain: true });
  await drone.endAsync();
}

beforeEach(async () => {
  const registry = new MemoryDeviceRegistry();
  for (const [id, role] of [['drone-001', 'drone'], ['svc-core', 'service']] as const) secrets[id] = (await registry.add(id, role)).secret;
  hub = await FleetHub.start(hubConfig({ mqttPort: 0 }), { registry, log: () => undefined });
});
afterEach(async () => {
  for (const c of clients.splice(0)) await c.endAsync(true);
  await hub.close();
});

describe('a mission dispatched while the drone is offline', () => {
  it('is sent again, once, when the drone comes online, and not after the drone accepted it', async () => {
    const core = await connect('svc-core');
    await core.publishAsync(topics.assignment('dlv-off'), encodeMessage(assignment), { qos: 1, retain: true });
    // The first send went nowhere: no drone session existed.
    await until(() => hub.counters.commandsPublished === 1, 'the first (lost) mission command');

    const received: DroneCommand[] = [];
    const drone = await droneOnline(received);
    await until(() => received.length >= 1, 'the mission on reconnect');
    await until(() => hub.ingestStats().pendingEvents === 0, 'the online flag processed');
    // One online flag, one resend: nothing else is on its way to the drone.
    expect(hub.counters.missionsResent).toBe(1);
    expect(hub.counters.commandsPublished).toBe(2);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ commandId: 'mission-dlv-off', droneId: 'drone-001', correlationId: 'corr-off', action: { kind: 'mission' } });

    // Offline again before acknowledging: the same command (same commandId) comes again.
    await goOffline(drone);
    const again: DroneCommand[] = [];
    const drone2 = await droneOnline(again);
    await until(() => again.length >= 1, 'the mission again on the second reconnect');
    expect(again[0]?.commandId).toBe('mission-dlv-off');

    // Accepted: a later reconnect (an agent restarted mid-flight) must not restart the mission.
    const result: CommandResult = {
      v: 1, commandId: 'mission-dlv-off', droneId: 'drone-001', ts: 2, outcome: 'accepted', code: 'AGENT_OK', mavResult: 'MAV_MISSION_ACCEPTED', message: 'started', correlationId: 'corr-off',
    };
    await drone2.publishAsync(topics.commandResult('drone-001'), encodeMessage(result), { qos: 1 });
    await until(() => (hub.counters.messagesIn['cmd/result'] ?? 0) === 1, 'the result taken in');
    await goOffline(drone2);
    const third: DroneCommand[] = [];
    await droneOnline(third);
    await until(() => (hub.counters.messagesIn.online ?? 0) === 5 && hub.ingestStats().pendingEvents === 0, 'the third online flag processed');
    expect(hub.counters.missionsResent).toBe(2);
    expect(third).toHaveLength(0);
  });

  // Regression (issue 5/7 dispatch reply): a mission published to a drone known offline waited in
  // its broker session, reached the restarted agent before its flight controller link was up, and
  // the agent answered AGENT_ERR_NO_LINK for that commandId for good (the delivery failed).
  it('for a drone known offline, is held, and sent only once a status newer than the online flag says the FC link is up', async () => {
    const first = await droneOnline([]);
    await goOffline(first);
    await until(() => hub.fleet.get('drone-001')?.online === false && hub.ingestStats().pendingEvents === 0, 'the drone offline');
    const core = await connect('svc-core');
    await core.publishAsync(topics.assignment('dlv-off'), encodeMessage(assignment), { qos: 1, retain: true });
    const received: DroneCommand[] = [];
    const drone = await connect('drone-001');
    drone.on('message', (_t, p) => {
      const d = decodeMessage('DroneCommand', p);
      if (d.ok) received.push(d.value);
    });
    await drone.subscribeAsync(topics.command('drone-001'), { qos: 1 });
    await drone.publishAsync(topics.online('drone-001'), 'true', { qos: 1, retain: true });
    seq += 1;
    await drone.publishAsync(topics.status('drone-001'), encodeMessage(droneStatus({ seq, link: { fcConnected: false, fcHeartbeatAgeMs: null } })), { qos: 1 });
    await until(() => hub.fleet.get('drone-001')?.status?.seq === seq, 'the unlinked status taken in');
    // Not linked yet: nothing sent, not even the first time (the drone was offline when it came).
    expect(hub.counters.commandsPublished).toBe(0);
    seq += 1;
    await drone.publishAsync(topics.status('drone-001'), encodeMessage(droneStatus({ seq })), { qos: 1 });
    await until(() => received.length >= 1, 'the mission once linked');
    expect(received.map((c) => c.commandId)).toEqual(['mission-dlv-off']);
    expect(hub.counters.commandsPublished).toBe(1);
  });
});
