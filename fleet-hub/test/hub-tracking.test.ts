import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { FleetHub, MemoryDeviceRegistry, MemoryEventStream, hubConfig } from '../src/index.js';
import {
  decodeMessage, encodeMessage, subscriptions, topics, type CommandResult, type DeliveryAssignment, type DeliveryTracking, type DispatchReply, type DroneCommand,
} from '@aerie/contracts';
import { droneStatus } from '../../test-support/fixtures.js';
import { until } from '../../test-support/until.js';

let hub: FleetHub;
let stream: MemoryEventStream;
const clients: MqttClient[] = [];
const secrets: Record<string, string> = {};


async function connect(id: string): Promise<MqttClient> {
  const c = await mqtt.connectAsync(hub.mqttUrl, { clientId: id, username: id, password: secrets[id], protocolVersion: 4, reconnectPeriod: 0 });
  clients.push(c);
  return c;
}

const pickup = { lat: 47.399, lon: 8.547 };
const dropoff = { lat: 47.401, lon: 8.55 };
const assignment: DeliveryAssignment = {
  v: 1, deliveryId: 'dlv-9', droneId: 'drone-001', ts: 1, correlationId: 'corr-9', action: 'fly', pickup, dropoff, cruiseAltM: 30, groundDelayS: 5,
};

beforeEach(async () => {
  const registry = new MemoryDeviceRegistry();
  for (const [id, role] of [['drone-001', 'drone'], ['svc-core', 'service']] as const) secrets[id] = (await registry.add(id, role)).secret;
  stream = new MemoryEventStream();
  hub = await FleetHub.start(hubConfig({ mqttPort: 0 }), { registry, log: () => undefined, eventStream: stream });
});
afterEach(async () => {
  for (const c of clients.splice(0)) await c.endAsync(true);
  await hub.close();
});

describe('fleet-hub over MQTT: assignment → mission command → tracking', () => {
  it('sends the delivery mission to the drone and turns its statuses into DeliveryTracking', async () => {
    const core = await connect('svc-core');
    const tracking: DeliveryTracking[] = [];
    core.on('message', (_t, p) => {
      const d = decodeMessage('DeliveryTracking', p);
      if (d.ok) tracking.push(d.value);
    });
    await core.subscribeAsync(subscriptions.allTracking, { qos: 1 });
    const drone = await connect('drone-001');
    const commands: DroneCommand[] = [];
    drone.on('message', (_t, p) => {
      const d = decodeMessage('DroneCommand', p);
      if (d.ok) commands.push(d.value);
    });
    await drone.subscribeAsync(topics.command('drone-001'), { qos: 1 });

    await core.publishAsync(topics.assignment('dlv-9'), encodeMessage(assignment), { qos: 1, retain: true });
    const cmd = await until(() => commands[0], 'the mission command');
    expect(cmd).toMatchObject({ commandId: 'mission-dlv-9', droneId: 'drone-001', correlationId: 'corr-9', action: { kind: 'mission' } });
    if (cmd.action.kind === 'mission') expect(cmd.action.steps.at(-1)).toEqual({ kind: 'rtl' });

    const home = { lat: 47.3977, lon: 8.5456 };
    const flight = [
      [home, 'TAKEOFF'], [pickup, 'ON_GROUND'], [pickup, 'TAKEOFF'], [dropoff, 'ON_GROUND'],
    ] as const;
    for (const [i, [p, landedState]] of flight.entries()) {
      const s = droneStatus({ seq: i + 1, armed: true, landedState, position: { ...p, altMsl: 488, altRel: landedState === 'ON_GROUND' ? 0 : 10 } });
      await drone.publishAsync(topics.status('drone-001'), encodeMessage(s), { qos: 1 });
    }
    await until(() => tracking.length === 4, 'four tracking events');
    expect(tracking.map((t) => t.type)).toEqual(['DeliveryHeadedToPickup', 'PackagePickedUp', 'DeliveryHeadedToDropoff', 'DeliveryCompleted']);
    expect(new Set(tracking.map((t) => t.eventId)).size).toBe(4);
    expect(tracking.every((t) => t.correlationId === 'corr-9')).toBe(true);
    // The same events, in order, in the event stream.
    const stored = await stream.read('test', 100);
    expect(stored.map((e) => e.event.eventId)).toEqual(tracking.map((t) => t.eventId));
  });

  it('answers the core when the drone refuses its mission, and leaves the failure to the core', async () => {
    const core = await connect('svc-core');
    const tracking: DeliveryTracking[] = [];
    const replies: DispatchReply[] = [];
    core.on('message', (_t, p) => {
      const d = decodeMessage('DeliveryTracking', p);
      if (d.ok) tracking.push(d.value);
      const r = decodeMessage('DispatchReply', p);
      if (r.ok) replies.push(r.value);
    });
    await core.subscribeAsync([subscriptions.allTracking, subscriptions.allDispatchReplies], { qos: 1 });
    const drone = await connect('drone-001');
    await core.publishAsync(topics.assignment('dlv-9'), encodeMessage(assignment), { qos: 1, retain: true });
    const refusal: CommandResult = {
      v: 1, commandId: 'mission-dlv-9', droneId: 'drone-001', ts: 2, outcome: 'rejected', code: 'AGENT_ERR_FC_REJECTED', mavResult: 'DENIED', message: 'arm refused: DENIED',
    };
    // The hub may not have processed the assignment yet; resend until the answer shows up.
    const reply = await until(() => {
      drone.publish(topics.commandResult('drone-001'), encodeMessage(refusal), { qos: 1 });
      return replies[0];
    }, 'the refusal');
    expect(reply).toMatchObject({
      deliveryId: 'dlv-9', droneId: 'drone-001', correlationId: 'corr-9', commandId: 'mission-dlv-9', outcome: 'refused', reason: 'mission_rejected',
      detail: 'AGENT_ERR_FC_REJECTED: arm refused: DENIED', mavResult: 'DENIED',
    });
    // The core decides and records that failure (its saga compensates): no tracking event from the hub,
    // not even for the compensation's abort; the drone is free for the next assignment.
    await core.publishAsync(topics.assignment('dlv-9'), encodeMessage({ ...assignment, action: 'abort', abortReason: 'failed' }), { qos: 1, retain: true });
    await core.publishAsync(topics.assignment('dlv-10'), encodeMessage({ ...assignment, deliveryId: 'dlv-10' }), { qos: 1, retain: true });
    await until(() => hub.counters.commandsPublished === 2, 'the next mission sent');
    expect(tracking).toEqual([]);
  });
});
