import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { connect as tlsConnect } from 'node:tls';
import mqtt from 'mqtt';
import deviceSdk from 'azure-iot-device';
import { Mqtt } from 'azure-iot-device-mqtt';
import { encodeMessage, topics, type DeliveryAssignment, type DroneCommand } from '@aerie/contracts';
import { FleetHub, MemoryDeviceRegistry, hubConfig } from '../src/index.js';
import { makeSasToken } from '../src/domain/iothub-auth.js';
import { droneStatus } from '../../test-support/fixtures.js';
import { makeTestPki, type TestPki } from '../../test-support/certs.js';
import { until } from '../../test-support/until.js';

// The real azure-iot-device SDK over its MQTT transport, pointed at the hub's IoT Hub-compatible
// endpoint by HostName=localhost:PORT and trusting the test CA through setOptions({ ca }).
const { Client, Message } = deviceSdk;
type DeviceClient = InstanceType<typeof Client>;

let pki: TestPki;
let hub: FleetHub;
let registry: MemoryDeviceRegistry;
let key = '';
let opsSecret = '';
const clients: DeviceClient[] = [];
const logs: string[] = [];

beforeAll(() => {
  pki = makeTestPki();
});
afterAll(() => pki.remove());
beforeEach(async () => {
  registry = new MemoryDeviceRegistry();
  key = (await registry.add('drone-001', 'drone', 'sas')).secret;
  await registry.add('drone-002', 'drone', 'sas');
  await registry.add('drone-x509', 'drone');
  opsSecret = (await registry.add('ops', 'service')).secret;
  logs.length = 0;
  hub = await FleetHub.start(hubConfig({
    mqttPort: 0, iothubPort: 0, iothubHttpPort: 0, tlsCertFile: pki.serverCertFile, tlsKeyFile: pki.serverKeyFile, tlsCaFile: pki.caFile,
  }), { registry, log: (line) => logs.push(line) });
});
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close().catch(() => undefined);
  await hub.close();
});

function host(): string {
  return `localhost:${hub.iothub!.endpoint.port}`;
}

async function open(cs: string, extra: Record<string, unknown> = {}): Promise<DeviceClient> {
  const c = Client.fromConnectionString(cs, Mqtt);
  clients.push(c);
  await c.setOptions({ ca: readFileSync(pki.caFile, 'utf8'), ...extra });
  await c.open();
  return c;
}

function sasDevice(id = 'drone-001', k = key): Promise<DeviceClient> {
  return open(`HostName=${host()};DeviceId=${id};SharedAccessKey=${k}`);
}

function telemetry(body: unknown, type: string) {
  const m = new Message(JSON.stringify(body));
  m.properties.add('type', type);
  m.contentType = 'application/json';
  m.contentEncoding = 'utf-8';
  return m;
}

/** A raw MQTT client speaking IoT Hub's scheme, for what the SDK would never send. */
function raw(clientId: string, username: string, password: string, clean = true, onMessage?: (topic: string, payload: Buffer) => void): Promise<mqtt.MqttClient> {
  const c = mqtt.connect(`mqtts://localhost:${hub.iothub!.endpoint.port}`, { clientId, username, password, clean, ca: readFileSync(pki.caFile), protocolVersion: 4, reconnectPeriod: 0 });
  if (onMessage) c.on('message', onMessage);
  return new Promise((resolve, reject) => {
    c.once('connect', () => resolve(c));
    c.once('error', (err) => {
      c.end(true);
      reject(err);
    });
  });
}

async function api(method: string, path: string, body?: unknown, auth = `ops:${opsSecret}`): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${hub.iothub!.apiUrl}${path}`, {
    method, headers: { authorization: `Basic ${Buffer.from(auth).toString('base64')}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() };
}

describe('IoT Hub-compatible endpoint, driven by the real azure-iot-device SDK', () => {
  it('takes statuses and events with a SAS key into the fleet state, exactly as MQTT-native ones', async () => {
    const c = await sasDevice();
    await c.sendEvent(telemetry(droneStatus({ seq: 1 }), 'status'));
    await c.sendEvent(telemetry({ v: 1, droneId: 'drone-001', bootId: 'boot-a', seq: 0, ts: 1, kind: 'statustext', severity: 3, text: 'low battery' }, 'event'));
    await until(() => hub.fleet.get('drone-001')?.status?.seq === 1, 'the status in the fleet state');
    await until(() => hub.counters.events === 1, 'the event through the pipeline');
    expect(hub.fleet.get('drone-001')?.online).toBe(true);
    // A duplicate is dropped downstream, as for MQTT.
    await c.sendEvent(telemetry(droneStatus({ seq: 1 }), 'status'));
    await until(() => hub.counters.rejected.HUB_ERR_DUPLICATE === 1, 'the duplicate rejected');
    // No type property: counted, not ingested.
    await c.sendEvent(new Message(JSON.stringify(droneStatus({ seq: 2 }))));
    await until(() => hub.iothub!.endpoint.refusedByReason.IOTHUB_TYPE_MISSING === 1, 'the untyped message refused');
    expect(hub.counters.statuses).toBe(1);
  });

  it('sends the hub’s commands as cloud-to-device messages, and queues them while the device is away', async () => {
    const core = await mqtt.connectAsync(hub.mqttUrl, { clientId: 'ops', username: 'ops', password: opsSecret, protocolVersion: 4 });
    const a: DeliveryAssignment = {
      v: 1, deliveryId: 'dlv-1', droneId: 'drone-001', ts: Date.now(), correlationId: 'corr-1', action: 'fly',
      pickup: { lat: 47.399, lon: 8.547 }, dropoff: { lat: 47.401, lon: 8.55 }, cruiseAltM: 30, groundDelayS: 5,
    };
    // Device offline: the mission waits in its queue (IoT Hub keeps C2D messages for absent devices).
    await core.publishAsync(topics.assignment('dlv-1'), encodeMessage(a), { qos: 1, retain: true });
    await until(() => hub.iothub!.endpoint.queuedC2D('drone-001') === 1, 'the command queued');
    await core.endAsync();
    const c = await sasDevice();
    const got: { body: DroneCommand; type: unknown; ct: unknown }[] = [];
    c.on('message', (msg: InstanceType<typeof Message>) => {
      got.push({ body: JSON.parse(String(msg.data as unknown)) as DroneCommand, type: msg.properties.getValue('type'), ct: msg.contentType });
      void c.complete(msg);
    });
    const cmd = await until(() => got[0], 'the C2D command');
    expect(cmd).toMatchObject({ type: 'command', ct: 'application/json', body: { commandId: 'mission-dlv-1', droneId: 'drone-001', action: { kind: 'mission' } } });
    await until(() => hub.iothub!.endpoint.queuedC2D('drone-001') === 0, 'the PUBACK completing it');
  });

  it('invokes a direct method through the service API; the CommandResult comes back and enters the pipeline', async () => {
    const c = await sasDevice();
    c.onDeviceMethod('rtl', (req, res) => {
      const cmd = req.payload as DroneCommand;
      void res.send(200, { v: 1, commandId: cmd.commandId, droneId: 'drone-001', ts: 2, outcome: 'rejected', code: 'AGENT_ERR_NO_LINK', mavResult: null, message: 'no FC' });
    });
    await until(() => hub.iothub!.endpoint.isConnected('drone-001'), 'connected');
    const cmd: DroneCommand = { v: 1, commandId: 'rtl-1', droneId: 'drone-001', ts: 1, action: { kind: 'rtl' } };
    let r = await api('POST', '/twins/drone-001/methods', { methodName: 'rtl', payload: cmd, responseTimeoutInSeconds: 10 });
    // The SDK subscribes to methods asynchronously after onDeviceMethod: retry until it listens.
    for (let i = 0; r.status === 404 && i < 100; i++) {
      await new Promise((res) => setTimeout(res, 20));
      r = await api('POST', '/twins/drone-001/methods', { methodName: 'rtl', payload: cmd, responseTimeoutInSeconds: 10 });
    }
    expect(r).toMatchObject({ status: 200, body: { status: 200, payload: { commandId: 'rtl-1', outcome: 'rejected', code: 'AGENT_ERR_NO_LINK' } } });
    await until(() => hub.counters.messagesIn['cmd/result'] === 1, 'the result through the intake');
    // A method nobody listens to times out as on IoT Hub (504), and an unknown device is 404.
    expect((await api('POST', '/twins/drone-001/methods', { methodName: 'land', payload: cmd, responseTimeoutInSeconds: 0.3 })).status).toBe(504);
    expect((await api('POST', '/twins/nobody/methods', { methodName: 'rtl' })).status).toBe(404);
    expect((await api('GET', '/twins', undefined, 'ops:wrong')).status).toBe(401);
  });

  it('stores reported twin properties per drone and shows them on GET /twins; desired patches reach the device', async () => {
    const c = await sasDevice();
    const twin = await c.getTwin();
    const reported = twin.properties.reported as { update(patch: unknown, done: (err?: Error) => void): void };
    await new Promise<void>((resolve, reject) => reported.update({ agentVersion: '0.1.0', config: { publishHz: 2 } }, (err) => (err ? reject(err) : resolve())));
    const one = await api('GET', '/twins/drone-001');
    expect(one.body).toMatchObject({ deviceId: 'drone-001', connectionState: 'Connected', properties: { reported: { agentVersion: '0.1.0', config: { publishHz: 2 }, $version: 2 } } });
    expect((await api('GET', '/twins')).body).toContainEqual(expect.objectContaining({ deviceId: 'drone-001' }));
    const desired: unknown[] = [];
    twin.on('properties.desired', (d: unknown) => desired.push(d));
    await until(() => desired.length > 0, 'the initial desired properties');
    expect((await api('PATCH', '/twins/drone-001', { properties: { desired: { publishHz: 5 } } })).status).toBe(200);
    await until(() => desired.some((d) => (d as { publishHz?: number }).publishHz === 5), 'the desired patch on the device');
  });

  it('lets in an X.509 device whose certificate names it, with no key', async () => {
    const cert = pki.client('drone-x509');
    const c = await open(`HostName=${host()};DeviceId=drone-x509;x509=true`, { cert: cert.cert, key: cert.key });
    await c.sendEvent(telemetry(droneStatus({ droneId: 'drone-x509', seq: 1 }), 'status'));
    await until(() => hub.fleet.get('drone-x509')?.status, 'the X.509 device status');
    // Another device's certificate does not open this device.
    const other = pki.client('drone-002');
    await expect(open(`HostName=${host()};DeviceId=drone-x509;x509=true`, { cert: other.cert, key: other.key })).rejects.toThrow();
    expect(hub.iothub!.endpoint.refusedByReason.IOTHUB_CERT_OTHER_DEVICE).toBe(1);
  });

  it('refuses a wrong key, an expired token, a token for another device and another device’s topics; counts and logs each', async () => {
    const wrong = Buffer.alloc(32, 7).toString('base64');
    await expect(sasDevice('drone-001', wrong)).rejects.toThrow();
    const port = hub.iothub!.endpoint.port;
    const user = (id: string) => `localhost:${port}/${id}/?api-version=2021-04-12`;
    const expired = makeSasToken(`localhost:${port}`, 'drone-001', key, Math.floor(Date.now() / 1000) - 60);
    await expect(raw('drone-001', user('drone-001'), expired)).rejects.toMatchObject({ code: 4 });
    const forOther = makeSasToken(`localhost:${port}`, 'drone-002', key, Math.floor(Date.now() / 1000) + 600);
    await expect(raw('drone-001', user('drone-001'), forOther)).rejects.toMatchObject({ code: 4 });
    const good = makeSasToken(`localhost:${port}`, 'drone-001', key, Math.floor(Date.now() / 1000) + 600);
    await expect(raw('drone-002', user('drone-001'), good)).rejects.toMatchObject({ code: 5 });
    expect(hub.iothub!.endpoint.refusedByReason).toMatchObject({ IOTHUB_BAD_SIGNATURE: 1, IOTHUB_EXPIRED: 1, IOTHUB_WRONG_RESOURCE: 1, IOTHUB_CLIENT_ID: 1 });
    // Logged in, it may not subscribe to another device's C2D nor publish as another device.
    const c = await raw('drone-001', user('drone-001'), good);
    // SUBACK 0x80 for the filter: mqtt.js reports it as a subscribe error.
    await expect(c.subscribeAsync('devices/drone-002/messages/devicebound/#', { qos: 1 })).rejects.toThrow();
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    c.publish('devices/drone-002/messages/events/type=status', encodeMessage(droneStatus({ droneId: 'drone-002', seq: 1 })), { qos: 1 });
    await closed;
    c.end(true);
    expect(hub.iothub!.endpoint.refusedByReason).toMatchObject({ IOTHUB_FILTER_NOT_ALLOWED: 1, IOTHUB_TOPIC_NOT_ALLOWED: 1 });
    expect(hub.fleet.get('drone-002')).toBeUndefined();
    expect(hub.counters.refused).toMatchObject({ HUB_ERR_BAD_CREDENTIALS: 3, HUB_ERR_CLIENT_ID: 1, HUB_ERR_ACL_SUBSCRIBE: 1, HUB_ERR_ACL_PUBLISH: 1 });
    expect(logs.filter((l) => l.includes('on iothub')).length).toBeGreaterThanOrEqual(6);
    expect(logs.some((l) => l.includes('(IOTHUB_EXPIRED)') && l.includes('client=drone-001'))).toBe(true);
  });

  it('revocation drops the live connection at once and refuses the next login', async () => {
    const c = await sasDevice();
    // The SDK's default policy retries quietly; without retries it reports the drop.
    c.setRetryPolicy({ shouldRetry: () => false, nextRetryTimeout: () => 0 });
    const gone = new Promise((resolve) => c.once('disconnect', resolve));
    await hub.revoke('drone-001');
    await gone;
    expect(hub.iothub!.endpoint.isConnected('drone-001')).toBe(false);
    await until(() => hub.fleet.get('drone-001')?.online === false, 'offline in the fleet state');
    clients.splice(clients.indexOf(c), 1);
    await c.close().catch(() => undefined);
    await expect(sasDevice()).rejects.toThrow();
    expect(hub.iothub!.endpoint.refusedByReason.IOTHUB_REVOKED).toBe(1);
  });

  it('survives garbage and a first packet that is not CONNECT; keeps a CleanSession 0 subscription for the next connection', async () => {
    const port = hub.iothub!.endpoint.port;
    // A reserved packet type, a CONNECT cut short, a PINGREQ before CONNECT [MQTT-3.1.0-1].
    for (const bytes of [Buffer.from([0x00, 0x00]), Buffer.from([0x10, 0x03, 0x00, 0x01, 0x00]), Buffer.from([0xc0, 0x00])]) {
      const sock = tlsConnect({ host: '127.0.0.1', port, ca: readFileSync(pki.caFile), servername: 'localhost' });
      await once(sock, 'secureConnect');
      sock.write(bytes);
      await once(sock, 'close');
    }
    const user = `localhost:${port}/drone-001/?api-version=2021-04-12`;
    const token = makeSasToken(`localhost:${port}`, 'drone-001', key, Math.floor(Date.now() / 1000) + 600);
    const first = await raw('drone-001', user, token, false);
    await first.subscribeAsync('devices/drone-001/messages/devicebound/#', { qos: 1 });
    await first.endAsync();
    expect(hub.iothub!.takeCommand(topics.command('drone-001'), '{"hello":1}')).toBe(true);
    // Reconnecting with CleanSession 0 and no SUBSCRIBE: the kept subscription delivers the queued message.
    const got: [string, Buffer][] = [];
    const second = await raw('drone-001', user, token, false, (t, p) => got.push([t, p]));
    const [topic, payload] = await until(() => got[0], 'the queued message on the kept subscription');
    expect(topic).toMatch(/^devices\/drone-001\/messages\/devicebound\/type=command/);
    expect(payload.toString()).toBe('{"hello":1}');
    await second.endAsync();
    const c = await sasDevice();
    await c.sendEvent(telemetry(droneStatus({ seq: 9 }), 'status'));
    await until(() => hub.fleet.get('drone-001')?.status?.seq === 9, 'the hub still serving');
  });

  it('ends a SAS session when its token expires', async () => {
    const port = hub.iothub!.endpoint.port;
    // Long enough to log in on a loaded machine, short enough to watch it run out.
    const token = makeSasToken(`localhost:${port}`, 'drone-001', key, Math.floor(Date.now() / 1000) + 5);
    const c = await raw('drone-001', `localhost:${port}/drone-001/?api-version=2021-04-12`, token);
    await new Promise<void>((resolve) => c.once('close', () => resolve()));
    c.end(true);
    expect(hub.iothub!.endpoint.isConnected('drone-001')).toBe(false);
  });

  it('refuses publishes past the size and rate limits, counts them, and keeps the connection', async () => {
    await hub.close();
    hub = await FleetHub.start(hubConfig({
      mqttPort: 0, iothubPort: 0, tlsCertFile: pki.serverCertFile, tlsKeyFile: pki.serverKeyFile, tlsCaFile: pki.caFile,
      maxPayloadBytes: 4096, droneMsgPerSec: 1, droneBurst: 5,
    }), { registry, log: (line) => logs.push(line) });
    const port = hub.iothub!.endpoint.port;
    const token = makeSasToken(`localhost:${port}`, 'drone-001', key, Math.floor(Date.now() / 1000) + 600);
    const c = await raw('drone-001', `localhost:${port}/drone-001/?api-version=2021-04-12`, token);
    const topic = 'devices/drone-001/messages/events/type=status';
    await c.publishAsync(topic, Buffer.alloc(5000, 32), { qos: 1 });
    for (let seq = 1; seq <= 20; seq++) await c.publishAsync(topic, encodeMessage(droneStatus({ seq })), { qos: 1 });
    expect(hub.counters.refused.HUB_ERR_TOO_LARGE).toBe(1);
    expect(hub.counters.refused.HUB_ERR_RATE).toBeGreaterThanOrEqual(10);
    expect(c.connected).toBe(true);
    // What got through is what the bucket allowed; the hub never saw the refused ones.
    await until(() => hub.counters.statuses === 20 - hub.counters.refused.HUB_ERR_RATE!, 'the admitted statuses processed');
    // A flood is logged once a second, not once per message.
    expect(logs.filter((l) => l.includes('HUB_ERR_RATE')).length).toBeLessThan(5);
    await c.endAsync();
  });
});
