import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { FleetHub, MemoryDeviceRegistry, hubConfig } from '../src/index.js';
import {
  decodeMessage, encodeMessage, subscriptions, topics,
  type CommandResult, type DeliveryAssignment, type DeliveryTracking, type DispatchReply, type DroneCommand,
} from '@aerie/contracts';
import { droneStatus } from '../../test-support/fixtures.js';
import { until } from '../../test-support/until.js';

// The hub answers each `fly` assignment on svc/v1/dispatch/{deliveryId} (issue 5/7: the core's
// saga waits for it), and an abort's reason decides which tracking event ends the delivery.
let hub: FleetHub;
const clients: MqttClient[] = [];
const secrets: Record<string, string> = {};

async function connect(id: string): Promise<MqttClient> {
  const c = await mqtt.connectAsync(hub.mqttUrl, { clientId: id, username: id, password: secrets[id], protocolVersion: 4, reconnectPeriod: 0 });
  clients.push(c);
  return c;
}

const pickup = { lat: 47.399, lon: 8.547 };
const dropoff = { lat: 47.401, lon: 8.55 };
const fly = (deliveryId: string, droneId = 'drone-001'): DeliveryAssignment => ({
  v: 1, deliveryId, droneId, ts: 1, correlationId: `corr-${deliveryId}`, action: 'fly', pickup, dropoff, cruiseAltM: 30, groundDelayS: 5,
});

interface Core {
  client: MqttClient;
  replies: DispatchReply[];
  tracking: DeliveryTracking[];
  assign(a: DeliveryAssignment): Promise<void>;
}

async function core(): Promise<Core> {
  const client = await connect('svc-core');
  const replies: DispatchReply[] = [];
  const tracking: DeliveryTracking[] = [];
  client.on('message', (_t, p) => {
    const r = decodeMessage('DispatchReply', p);
    if (r.ok) replies.push(r.value);
    const d = decodeMessage('DeliveryTracking', p);
    if (d.ok) tracking.push(d.value);
  });
  await client.subscribeAsync([subscriptions.allDispatchReplies, subscriptions.allTracking], { qos: 1 });
  return {
    client, replies, tracking,
    assign: (a) => client.publishAsync(topics.assignment(a.deliveryId), encodeMessage(a), { qos: 1, retain: true }).then(() => undefined),
  };
}

/** A drone the way edge-agent connects: online flag, its command topic, and a first status. */
async function drone(id: string, onCommand: (c: DroneCommand, client: MqttClient) => void): Promise<MqttClient> {
  const c = await connect(id);
  c.on('message', (_t, p) => {
    const d = decodeMessage('DroneCommand', p);
    if (d.ok) onCommand(d.value, c);
  });
  await c.subscribeAsync(topics.command(id), { qos: 1 });
  await c.publishAsync(topics.online(id), 'true', { qos: 1, retain: true });
  await c.publishAsync(topics.status(id), encodeMessage(droneStatus({ droneId: id, seq: 1 })), { qos: 1 });
  return c;
}

function result(cmd: DroneCommand, outcome: CommandResult['outcome'], mavResult: string, message: string): string {
  const r: CommandResult = {
    v: 1, commandId: cmd.commandId, droneId: cmd.droneId, ts: 2, outcome, code: outcome === 'accepted' ? 'AGENT_OK' : 'AGENT_ERR_FC_REJECTED', mavResult, message,
    ...(cmd.correlationId ? { correlationId: cmd.correlationId } : {}),
  };
  return encodeMessage(r);
}

beforeEach(async () => {
  const registry = new MemoryDeviceRegistry();
  for (const [id, role] of [['drone-001', 'drone'], ['drone-002', 'drone'], ['drone-003', 'drone'], ['svc-core', 'service']] as const) {
    secrets[id] = (await registry.add(id, role)).secret;
  }
  hub = await FleetHub.start(hubConfig({ mqttPort: 0, dispatchOfflineLimitMs: 1500 }), { registry, log: () => undefined });
});
afterEach(async () => {
  for (const c of clients.splice(0)) await c.endAsync(true);
  await hub.close();
});

describe('fleet-hub answers each assignment (DispatchReply)', () => {
  it('accepted once the drone started the mission; a re-sent assignment gets the same reply, and the mission is not flown twice', async () => {
    const c = await core();
    const missions: DroneCommand[] = [];
    await drone('drone-001', (cmd, d) => {
      if (cmd.action.kind !== 'mission') return;
      missions.push(cmd);
      d.publish(topics.commandResult('drone-001'), result(cmd, 'accepted', 'MAV_MISSION_ACCEPTED', 'mission started'), { qos: 1 });
    });
    await until(() => hub.fleet.get('drone-001')?.online === true, 'the drone online');
    await c.assign(fly('dlv-a'));
    const first = await until(() => c.replies[0], 'the reply');
    expect(first).toMatchObject({
      v: 1, deliveryId: 'dlv-a', droneId: 'drone-001', correlationId: 'corr-dlv-a', commandId: 'mission-dlv-a', outcome: 'accepted', mavResult: 'MAV_MISSION_ACCEPTED',
    });
    expect(first.reason).toBeUndefined();
    // The core timed out and sends the same assignment again: the same answer, no second mission.
    await c.assign({ ...fly('dlv-a'), ts: 2 });
    await until(() => c.replies.length === 2, 'the repeated reply');
    expect(c.replies[1]).toEqual(first);
    expect(missions).toHaveLength(1);
  });

  it('refused with mission_rejected and the flight controller\'s result when the drone refuses the mission', async () => {
    const c = await core();
    await drone('drone-001', (cmd, d) => {
      if (cmd.action.kind === 'mission') d.publish(topics.commandResult('drone-001'), result(cmd, 'rejected', 'MAV_MISSION_INVALID_SEQUENCE', 'mission upload refused'), { qos: 1 });
    });
    await until(() => hub.fleet.get('drone-001')?.online === true, 'the drone online');
    await c.assign(fly('dlv-r'));
    const reply = await until(() => c.replies[0], 'the refusal');
    expect(reply).toMatchObject({ outcome: 'refused', reason: 'mission_rejected', mavResult: 'MAV_MISSION_INVALID_SEQUENCE', detail: 'AGENT_ERR_FC_REJECTED: mission upload refused' });
    // Not tracked any more: the drone is free for the next assignment.
    await c.assign(fly('dlv-next'));
    await until(() => c.replies.length === 2, 'the next answer');
    expect(c.replies[1]).toMatchObject({ deliveryId: 'dlv-next', outcome: 'refused', reason: 'mission_rejected' });
  });

  it('refused at once: drone_unknown for a drone the registry does not hold, drone_busy for one flying another delivery', async () => {
    const c = await core();
    await c.assign(fly('dlv-ghost', 'drone-999'));
    await until(() => c.replies.some((r) => r.deliveryId === 'dlv-ghost'), 'the unknown drone refused');
    expect(c.replies.find((r) => r.deliveryId === 'dlv-ghost')).toMatchObject({ outcome: 'refused', reason: 'drone_unknown', droneId: 'drone-999' });

    await drone('drone-002', () => undefined);
    await c.assign(fly('dlv-first', 'drone-002'));
    await until(() => hub.counters.commandsPublished >= 1, 'the first mission sent');
    await c.assign(fly('dlv-second', 'drone-002'));
    const busy = await until(() => c.replies.find((r) => r.deliveryId === 'dlv-second'), 'the busy drone refused');
    expect(busy).toMatchObject({ outcome: 'refused', reason: 'drone_busy', detail: 'drone drone-002 is flying delivery dlv-first' });
    // The first delivery is still the drone's, and still waiting for its answer.
    expect(c.replies.some((r) => r.deliveryId === 'dlv-first')).toBe(false);
  });

  it('refused with drone_offline when the drone stays offline past the limit', async () => {
    const c = await core();
    await c.assign(fly('dlv-off', 'drone-003'));
    const reply = await until(() => c.replies[0], 'the offline refusal', 10_000);
    expect(reply).toMatchObject({ deliveryId: 'dlv-off', outcome: 'refused', reason: 'drone_offline' });
    expect(reply.detail).toMatch(/^drone drone-003 offline for \d+ s$/);
  });
});

describe('an abort says why (abortReason)', () => {
  it('cancelled: RTL flown and DeliveryCancelled; failed: RTL and DeliveryFailed; reassigned: RTL and no tracking event', async () => {
    const c = await core();
    const rtl: string[] = [];
    const accept = (cmd: DroneCommand, d: MqttClient) => {
      if (cmd.action.kind === 'rtl') rtl.push(cmd.commandId);
      d.publish(topics.commandResult(cmd.droneId), result(cmd, 'accepted', 'ACCEPTED', 'ok'), { qos: 1 });
    };
    for (const id of ['drone-001', 'drone-002', 'drone-003']) await drone(id, accept);
    await until(() => ['drone-001', 'drone-002', 'drone-003'].every((id) => hub.fleet.get(id)?.online === true), 'the drones online');
    const cases = [['dlv-c', 'drone-001', 'cancelled'], ['dlv-f', 'drone-002', 'failed'], ['dlv-m', 'drone-003', 'reassigned']] as const;
    for (const [id, droneId] of cases) await c.assign(fly(id, droneId));
    await until(() => c.replies.length === 3, 'three accepted');
    for (const [id, droneId, abortReason] of cases) await c.assign({ ...fly(id, droneId), action: 'abort', abortReason });
    await until(() => rtl.length === 3, 'three RTLs');
    expect(rtl.sort()).toEqual(['rtl-dlv-c', 'rtl-dlv-f', 'rtl-dlv-m']);
    await until(() => c.tracking.length === 2, 'two tracking events');
    expect(c.tracking.map((t) => [t.deliveryId, t.type, t.stage, t.correlationId]).sort()).toEqual([
      ['dlv-c', 'DeliveryCancelled', 'Cancelled', 'corr-dlv-c'],
      ['dlv-f', 'DeliveryFailed', 'Failed', 'corr-dlv-f'],
    ]);
    // A duplicate abort (a compensation run again after a crash) sends nothing more: the next
    // assignment's answer, published after it, arrives with nothing in between.
    await c.assign({ ...fly('dlv-c', 'drone-001'), action: 'abort', abortReason: 'cancelled' });
    await c.assign(fly('dlv-z', 'drone-001'));
    await until(() => c.replies.some((r) => r.deliveryId === 'dlv-z'), 'the next delivery accepted');
    expect(c.tracking).toHaveLength(2);
    expect(rtl).toHaveLength(3);
  });
});
