import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import type { DroneStatus } from '@aerie/contracts';
import { DiskSpool, MqttUplink, SpoolingUplink } from '../src/index.js';
import { makeTlsMaterial, startTlsMosquitto, type RunningTlsMosquitto, type TlsMaterial } from '../../test-support/mosquitto-tls.js';
import { until } from '../../test-support/until.js';

let tls: TlsMaterial;
const cleanups: (() => Promise<unknown> | void)[] = [];
beforeAll(() => {
  tls = makeTlsMaterial('drone-tls');
});
afterAll(() => rmSync(tls.dir, { recursive: true, force: true }));
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const users = [{ username: 'drone-tls', password: 's3cret' }, { username: 'svc', password: 'svc-pw' }];

function subscriber(url: string, opts: mqtt.IClientOptions = {}): Promise<{ client: MqttClient; got: DroneStatus[] }> {
  const client = mqtt.connect(url, { ca: readFileSync(tls.ca), username: 'svc', password: 'svc-pw', reconnectPeriod: 100, ...opts });
  cleanups.push(() => client.endAsync());
  const got: DroneStatus[] = [];
  client.on('message', (_t, p) => got.push(JSON.parse(p.toString()) as DroneStatus));
  return new Promise((resolve) => client.once('connect', () => client.subscribe('fleet/v1/+/status', { qos: 1 }, () => resolve({ client, got }))));
}

const body = (seq: number): Buffer => Buffer.from(JSON.stringify({ seq }));

describe('MQTT over TLS against Debian\'s Mosquitto', () => {
  it('username/password over TLS, trusting the broker through the configured CA', async () => {
    const broker = await startTlsMosquitto(tls, { requireCertificate: false, users });
    cleanups.push(() => broker.stop());
    const sub = await subscriber(broker.url);
    const up = await MqttUplink.connect('drone-tls', { url: broker.url, username: 'drone-tls', password: 's3cret', ca: tls.ca });
    cleanups.push(() => up.close());
    expect(await up.publishConfirmed('status', body(1))).toBe(true);
    await until(() => sub.got.length === 1, 'the status at the subscriber');
  });

  it('refuses a broker whose certificate does not chain to the configured CA', async () => {
    const broker = await startTlsMosquitto(tls, { requireCertificate: false, users });
    cleanups.push(() => broker.stop());
    await expect(MqttUplink.connect('drone-tls', { url: broker.url, username: 'drone-tls', password: 's3cret', ca: tls.otherCa })).rejects.toThrow(/certificate/i);
  });

  it('mutual TLS: a client certificate from the CA is the identity; without one the broker refuses', async () => {
    const broker = await startTlsMosquitto(tls, { requireCertificate: true });
    cleanups.push(() => broker.stop());
    const up = await MqttUplink.connect('drone-tls', { url: broker.url, username: '', password: '', ca: tls.ca, cert: tls.clientCert, key: tls.clientKey });
    cleanups.push(() => up.close());
    expect(await up.publishConfirmed('status', body(1))).toBe(true);
    await expect(MqttUplink.connect('drone-tls-2', { url: broker.url, username: '', password: '', ca: tls.ca })).rejects.toThrow();
  });

  it('a broker outage: status is spooled on disk, then drained in order after the restart while live data flows', async () => {
    const persist = mkdtempSync(join(tmpdir(), 'aerie-mosq-persist-'));
    chmodSync(persist, 0o777);
    cleanups.push(() => rmSync(persist, { recursive: true, force: true }));
    let broker: RunningTlsMosquitto = await startTlsMosquitto(tls, { requireCertificate: false, users, persistenceDir: persist });
    cleanups.push(() => broker.stop());
    // A persistent session: the broker keeps what arrives for it while it is away.
    const sub = await subscriber(broker.url, { clientId: 'svc-sub', clean: false });
    const spoolDir = mkdtempSync(join(tmpdir(), 'aerie-spool-'));
    mkdirSync(spoolDir, { recursive: true });
    cleanups.push(() => rmSync(spoolDir, { recursive: true, force: true }));
    const inner = await MqttUplink.connect('drone-tls', { url: broker.url, username: 'drone-tls', password: 's3cret', ca: tls.ca });
    const up = new SpoolingUplink(inner, new DiskSpool(spoolDir, { maxBytes: 1e6, statusMaxAgeMs: 1e9, eventMaxAgeMs: 1e9 }));
    cleanups.push(() => up.close());
    const status = (seq: number): DroneStatus => ({ seq } as unknown as DroneStatus);
    for (let i = 0; i < 5; i++) up.publishStatus(status(i));
    await until(() => sub.got.length === 5, 'live statuses');

    const port = broker.port;
    await broker.stop();
    await until(() => !up.connected, 'the uplink to notice the outage');
    for (let i = 5; i < 25; i++) up.publishStatus(status(i));
    expect(up.spool.length).toBe(20);
    broker = await startTlsMosquitto(tls, { requireCertificate: false, users, port, persistenceDir: persist });
    await until(() => up.connected, 'the uplink to reconnect', 30_000);
    for (let i = 25; i < 30; i++) up.publishStatus(status(i));
    await until(() => up.spool.length === 0 && new Set(sub.got.map((s) => s.seq)).size === 30, 'all 30 statuses at the subscriber', 30_000);
    const drained = sub.got.map((s) => s.seq).filter((s) => s >= 5 && s < 25);
    expect(drained).toEqual(Array.from({ length: 20 }, (_, i) => i + 5));
  });
});
