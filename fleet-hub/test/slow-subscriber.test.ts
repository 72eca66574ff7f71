import { afterEach, describe, expect, it } from 'vitest';
import { connect as netConnect, type Socket } from 'node:net';
import { once } from 'node:events';
import mqtt, { type MqttClient } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { FleetHub, MemoryDeviceRegistry, hubConfig } from '../src/index.js';
import { encodeMessage, subscriptions, topics } from '@aerie/contracts';
import { droneStatus } from '../../test-support/fixtures.js';
import { until } from '../../test-support/until.js';

// Issue 5: aedes 1.x with drainTimeout set. A subscriber that stops reading its socket must not
// hold the broker's buffers (or the drones) hostage: once its socket has not drained for
// drainTimeout (5 s here; aedes' own default is 60 s, which the `until` bound below would not
// wait for), aedes drops it, and everybody else carries on.

let hub: FleetHub | undefined;
const clients: MqttClient[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const c of clients.splice(0)) await c.endAsync(true);
  await hub?.close();
  hub = undefined;
});

describe('a subscriber that stops reading', () => {
  it('is dropped by the broker after its drain timeout, while the drone and a reading subscriber carry on', async () => {
    const registry = new MemoryDeviceRegistry();
    const secrets = new Map<string, string>();
    for (const [id, role] of [['drone-001', 'drone'], ['svc-slow', 'service'], ['svc-fast', 'service']] as const) secrets.set(id, (await registry.add(id, role)).secret);
    const h = await FleetHub.start(hubConfig({ mqttPort: 0, metricsPort: 0, droneMsgPerSec: 1e6, droneBurst: 1e6 }), { registry, log: () => undefined });
    hub = h;
    // The broker's view: a paused socket never sees the close, so ask the broker who is connected.
    const connections = async () => Number(/^aerie_hub_connections (\d+)$/m.exec(await (await fetch(`${h.metricsUrl}/metrics`)).text())?.[1]);

    // The slow one, by hand: CONNECT, SUBSCRIBE to every status, then it never reads again.
    const sock = netConnect(h.mqttPort, '127.0.0.1');
    sockets.push(sock);
    await once(sock, 'connect');
    const packets: mqttPacket.Packet[] = [];
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (p) => packets.push(p));
    const onData = (b: Buffer) => parser.parse(b);
    sock.on('data', onData);
    sock.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'svc-slow', username: 'svc-slow', password: Buffer.from(secrets.get('svc-slow')!), clean: true, keepalive: 0 }));
    await until(() => packets.some((p) => p.cmd === 'connack'), 'CONNACK');
    sock.write(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: subscriptions.allStatus, qos: 0 }] }));
    await until(() => packets.some((p) => p.cmd === 'suback'), 'SUBACK');
    sock.off('data', onData);
    sock.pause();

    const fast = await mqtt.connectAsync(h.mqttUrl, { clientId: 'svc-fast', username: 'svc-fast', password: secrets.get('svc-fast'), protocolVersion: 4, reconnectPeriod: 0 });
    clients.push(fast);
    let fastGot = 0;
    fast.on('message', () => (fastGot += 1));
    await fast.subscribeAsync(subscriptions.allStatus, { qos: 0 });
    const drone = await mqtt.connectAsync(h.mqttUrl, { clientId: 'drone-001', username: 'drone-001', password: secrets.get('drone-001'), protocolVersion: 4, reconnectPeriod: 0 });
    clients.push(drone);
    const withSlow = await connections();

    // ~48 KB statuses until the slow socket's kernel buffers are full many times over.
    const filler = 'x'.repeat(48 * 1024);
    const sent = 400;
    for (let seq = 1; seq <= sent; seq++) {
      await drone.publishAsync(topics.status('drone-001'), encodeMessage(droneStatus({ seq, flightModeRaw: filler })), { qos: 1 });
    }
    await until(() => h.counters.statuses === sent, 'every status processed by the hub');
    // Polled with a bound against a hang, not a timing assertion; aedes' default (60 s) would not make it.
    let now = withSlow;
    for (const end = Date.now() + 20_000; now === withSlow && Date.now() < end; await new Promise((r) => setTimeout(r, 100))) now = await connections();
    expect(now).toBe(withSlow - 1);
    await until(() => fastGot === sent, 'the reading subscriber got every status');
    // The drone was never held up: it still publishes and is heard.
    await drone.publishAsync(topics.status('drone-001'), encodeMessage(droneStatus({ seq: sent + 1 })), { qos: 1 });
    await until(() => h.fleet.get('drone-001')?.status?.seq === sent + 1, 'the next status');
    expect(drone.connected).toBe(true);
  }, 60_000);
});
