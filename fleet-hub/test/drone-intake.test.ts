import { afterEach, describe, expect, it } from 'vitest';
import { connect as netConnect, type Socket } from 'node:net';
import { once } from 'node:events';
import mqtt, { type MqttClient } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { FleetHub, MemoryDeviceRegistry, MemoryTelemetryWriter, hubConfig } from '../src/index.js';
import { encodeMessage, subscriptions, topics, type DroneEvent } from '@aerie/contracts';
import { droneStatus } from '../../test-support/fixtures.js';
import { until } from '../../test-support/until.js';

// The hub's intake of drone statuses and events (src/adapters/drone-intake.ts) reads them off
// the drone's connection ahead of aedes. These pin what it must keep of MQTT and of the hub.

let hub: FleetHub | undefined;
const clients: MqttClient[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const c of clients.splice(0)) await c.endAsync(true);
  await hub?.close();
  hub = undefined;
});

async function start(overrides: Parameters<typeof hubConfig>[0] = {}) {
  const registry = new MemoryDeviceRegistry();
  const secrets = new Map<string, string>();
  for (const [id, role] of [['drone-001', 'drone'], ['drone-002', 'drone'], ['svc-telemetry', 'service']] as const) secrets.set(id, (await registry.add(id, role)).secret);
  const writer = new MemoryTelemetryWriter();
  const logs: string[] = [];
  const h = await FleetHub.start(hubConfig({ mqttPort: 0, droneMsgPerSec: 1e6, droneBurst: 1e6, ...overrides }), { registry, writer, log: (l) => logs.push(l) });
  hub = h;
  const connect = async (id: string, opts: mqtt.IClientOptions = {}) => {
    const c = await mqtt.connectAsync(h.mqttUrl, { clientId: id, username: id, password: secrets.get(id), protocolVersion: 4, reconnectPeriod: 0, ...opts });
    clients.push(c);
    return c;
  };
  return { hub: h, writer, logs, secrets, connect };
}

function event(seq: number): DroneEvent {
  return { v: 1, droneId: 'drone-001', bootId: 'boot-a', seq, ts: 1_700_000_000_000 + seq, kind: 'statustext', severity: 6, text: `event ${seq}` };
}

/** A hand-driven MQTT 3.1.1 connection: exact bytes out, every packet in (in order). */
async function rawDrone(url: string, id: string, secret: string, keepalive = 60) {
  const { hostname, port } = new URL(url);
  const sock = netConnect(Number(port), hostname);
  sock.setNoDelay(true);
  sockets.push(sock);
  await once(sock, 'connect');
  const packets: mqttPacket.Packet[] = [];
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  parser.on('packet', (p) => packets.push(p));
  sock.on('data', (b) => parser.parse(b));
  sock.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: id, username: id, password: Buffer.from(secret), clean: true, keepalive }));
  await until(() => packets.some((p) => p.cmd === 'connack'), 'CONNACK');
  return { sock, packets };
}

describe('drone intake ahead of aedes', () => {
  it('acknowledges a QoS 1 status only once the hub has taken it in (queued or counted as shed)', async () => {
    const { hub, connect } = await start({ maxPendingStatuses: 3 });
    const drone = await connect('drone-001');
    const n = 300;
    const takenAtAck: number[] = [];
    const taken = () => (hub.counters.messagesIn.status ?? 0);
    // Published together, so they arrive in few reads and the queue (bound 3) sheds.
    await Promise.all(Array.from({ length: n }, (_, i) =>
      drone.publishAsync(topics.status('drone-001'), encodeMessage(droneStatus({ seq: i + 1 })), { qos: 1 }).then(() => takenAtAck.push(taken()))));
    // Each PUBACK was read by the drone after the hub had counted at least that many statuses.
    takenAtAck.forEach((t, i) => expect(t).toBeGreaterThanOrEqual(i + 1));
    await until(() => hub.ingestStats().pendingStatuses === 0, 'the queue drained');
    expect(hub.counters.statuses + hub.counters.shed.statuses).toBe(n);
    expect(hub.fleet.get('drone-001')?.status?.seq).toBe(n);
  });

  it('never sheds events, and counts every status it sheds', async () => {
    const { hub, writer, connect } = await start({ maxPendingStatuses: 1 });
    const drone = await connect('drone-001');
    const statuses = 1_000;
    const events = 100;
    const sends: Promise<unknown>[] = [];
    for (let i = 1; i <= statuses; i++) {
      sends.push(drone.publishAsync(topics.status('drone-001'), encodeMessage(droneStatus({ seq: i })), { qos: 1 }));
      if (i % 10 === 0) sends.push(drone.publishAsync(topics.events('drone-001'), encodeMessage(event(i / 10)), { qos: 1 }));
    }
    await Promise.all(sends);
    await until(() => writer.written + hub.counters.shed.statuses === statuses, 'every status written or counted as shed');
    await until(() => hub.counters.events === events, 'every event processed');
    expect(hub.counters.shed.statuses).toBeGreaterThan(0);
    expect(hub.counters.shed.events).toBe(0);
    expect(hub.counters.messagesIn).toMatchObject({ status: statuses, events });
    expect(hub.counters.rejected).toEqual({});
  });

  it('still refuses and counts oversized, malformed and foreign-topic publishes', async () => {
    const { hub, logs, connect } = await start({ maxPayloadBytes: 2048 });
    const drone = await connect('drone-001');
    await drone.publishAsync(topics.status('drone-001'), Buffer.alloc(4096, 0x20), { qos: 1 });
    expect(hub.counters.refused.HUB_ERR_TOO_LARGE).toBe(1);
    expect(logs).toContainEqual(expect.stringMatching(/HUB_ERR_TOO_LARGE client=drone-001 .*topic=fleet\/v1\/drone-001\/status/));
    await drone.publishAsync(topics.status('drone-001'), Buffer.from('{not json'), { qos: 1 });
    await drone.publishAsync(topics.events('drone-001'), Buffer.from('[]'), { qos: 0 });
    await until(() => hub.counters.rejected.HUB_ERR_PAYLOAD === 2, 'both malformed payloads rejected');
    expect(logs).toContainEqual(expect.stringMatching(/HUB_ERR_PAYLOAD drone=drone-001/));
    await drone.publishAsync(topics.status('drone-001'), encodeMessage(droneStatus({ seq: 7 })), { qos: 1 });
    await until(() => hub.counters.statuses === 1, 'the connection carries on');
    expect(drone.connected).toBe(true);
    // Another drone's topic is not the intake's: aedes' ACL refuses it and drops the connection, as before.
    const closed = new Promise<void>((resolve) => drone.once('close', () => resolve()));
    drone.publish(topics.status('drone-002'), encodeMessage(droneStatus({ droneId: 'drone-002', seq: 1 })), { qos: 1 });
    await closed;
    expect(hub.counters.refused.HUB_ERR_ACL_PUBLISH).toBe(1);
    expect(hub.fleet.get('drone-002')).toBeUndefined();
  });

  it('a service subscribed to the fleet still gets every status and event, and the hub takes each in once', async () => {
    const { hub, connect } = await start();
    const svc = await connect('svc-telemetry');
    const got: string[] = [];
    svc.on('message', (topic) => got.push(topic));
    await svc.subscribeAsync([subscriptions.allStatus, subscriptions.allEvents], { qos: 1 });
    const drone = await connect('drone-001');
    for (let i = 1; i <= 20; i++) await drone.publishAsync(topics.status('drone-001'), encodeMessage(droneStatus({ seq: i })), { qos: i % 2 as 0 | 1 });
    await drone.publishAsync(topics.events('drone-001'), encodeMessage(event(1)), { qos: 1 });
    await until(() => got.length === 21, 'the service got all 21');
    await until(() => hub.counters.statuses === 20 && hub.counters.events === 1, 'the hub processed each');
    expect(hub.counters.messagesIn).toMatchObject({ status: 20, events: 1 });
    expect(hub.counters.rejected).toEqual({});
    // Once nobody else subscribes, the intake keeps them to the hub.
    await svc.unsubscribeAsync([subscriptions.allStatus, subscriptions.allEvents]);
    for (let i = 21; i <= 25; i++) await drone.publishAsync(topics.status('drone-001'), encodeMessage(droneStatus({ seq: i })), { qos: 1 });
    await until(() => hub.counters.statuses === 25, 'the hub processed the next 5');
    expect(got).toHaveLength(21);
  });

  it('a persistent session subscribed to the fleet gets, on its return, what the drones sent while it was away', async () => {
    const { hub, connect, secrets } = await start();
    const session = { clientId: 'svc-telemetry', clean: false };
    const svc = await connect('svc-telemetry', session);
    await svc.subscribeAsync(subscriptions.allStatus, { qos: 1 });
    await svc.endAsync();
    clients.splice(clients.indexOf(svc), 1);
    const drone = await connect('drone-001');
    for (let i = 1; i <= 5; i++) await drone.publishAsync(topics.status('drone-001'), encodeMessage(droneStatus({ seq: i })), { qos: 1 });
    await until(() => hub.counters.statuses === 5, 'the hub processed the 5');
    const got: string[] = [];
    // Listening from the start: the queued messages follow the CONNACK at once.
    const back = mqtt.connect(hub.mqttUrl, { ...session, username: 'svc-telemetry', password: secrets.get('svc-telemetry'), protocolVersion: 4, reconnectPeriod: 0 });
    clients.push(back);
    back.on('message', (_t, payload) => got.push(payload.toString()));
    await until(() => got.length === 5, 'the 5 queued for the session delivered');
    expect(hub.counters.messagesIn.status).toBe(5);
  });

  it('frames packets split and joined across reads, and acknowledges in order', async () => {
    const { hub, secrets } = await start();
    const { sock, packets } = await rawDrone(hub.mqttUrl, 'drone-001', secrets.get('drone-001')!);
    const big = encodeMessage({ ...droneStatus({ seq: 3 }), flightModeRaw: 'x'.repeat(40_000) });
    const bytes = Buffer.concat([
      mqttPacket.generate({ cmd: 'publish', topic: topics.status('drone-001'), payload: encodeMessage(droneStatus({ seq: 1 })), qos: 1, messageId: 11, retain: false, dup: false }),
      mqttPacket.generate({ cmd: 'publish', topic: topics.events('drone-001'), payload: encodeMessage(event(1)), qos: 0, retain: false, dup: false }),
      mqttPacket.generate({ cmd: 'pingreq' }),
      mqttPacket.generate({ cmd: 'publish', topic: topics.status('drone-001'), payload: encodeMessage(droneStatus({ seq: 2 })), qos: 1, messageId: 12, retain: false, dup: false }),
      mqttPacket.generate({ cmd: 'publish', topic: topics.status('drone-001'), payload: big, qos: 1, messageId: 13, retain: false, dup: false }),
      mqttPacket.generate({ cmd: 'publish', topic: topics.online('drone-001'), payload: 'true', qos: 1, messageId: 14, retain: false, dup: false }),
    ]);
    // Odd cuts: inside a fixed header, inside a topic, across the big payload.
    for (const [a, b] of [[0, 1], [1, 30], [30, 200], [200, 5_000], [5_000, 20_000], [20_000, bytes.length]] as const) {
      sock.write(bytes.subarray(a, b));
      await new Promise((r) => setTimeout(r, 20));
    }
    await until(() => packets.filter((p) => p.cmd === 'puback').length === 4 && packets.some((p) => p.cmd === 'pingresp'), 'four PUBACKs and the PINGRESP');
    expect(packets.filter((p) => p.cmd === 'puback').map((p) => p.messageId)).toEqual([11, 12, 13, 14]);
    await until(() => hub.counters.statuses === 3 && hub.counters.events === 1, 'the three statuses and the event processed');
    expect(hub.fleet.get('drone-001')?.status?.seq).toBe(3);
    expect(hub.fleet.get('drone-001')?.online).toBe(true);
  });

  it('a drone that only publishes statuses keeps its connection past the keep-alive', async () => {
    const { hub, secrets } = await start();
    // No PINGREQ from this one: only QoS 0 statuses, every 200 ms, with a 1 s keep-alive.
    const { sock } = await rawDrone(hub.mqttUrl, 'drone-001', secrets.get('drone-001')!, 1);
    let closed = false;
    sock.on('close', () => (closed = true));
    // aedes drops a connection silent for 1.5 × keepalive [MQTT-3.1.2-24]; statuses are not silence.
    for (let i = 1; i <= 12; i++) {
      sock.write(mqttPacket.generate({ cmd: 'publish', topic: topics.status('drone-001'), payload: encodeMessage(droneStatus({ seq: i })), qos: 0, retain: false, dup: false }));
      await new Promise((r) => setTimeout(r, 200));
    }
    await until(() => hub.counters.statuses === 12, 'all 12 processed');
    expect(closed).toBe(false);
  });
});
