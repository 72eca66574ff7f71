import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import deviceSdk from 'azure-iot-device';
import { Mqtt } from 'azure-iot-device-mqtt';
import { encodeMessage, topics, type DeliveryAssignment, type DroneCommand } from '@aerie/contracts';
import { FileDeviceRegistry } from '../src/index.js';
import { makeTestPki, type TestPki } from '../../test-support/certs.js';
import { until } from '../../test-support/until.js';

// The real aerie-hub process (--data-dir) with its IoT Hub-compatible endpoint, SIGKILLed and
// started again, driven by the real azure-iot-device SDK: queued cloud-to-device messages and
// reported twin properties survive; `aerie-hub device revoke` from another process ends a live
// session at once.
const { Client } = deviceSdk;
type DeviceClient = InstanceType<typeof Client>;
type SdkMessage = InstanceType<typeof deviceSdk.Message>;
const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));

let pki: TestPki;
const dirs: string[] = [];
const procs: ChildProcess[] = [];
const clients: DeviceClient[] = [];

beforeAll(() => {
  pki = makeTestPki();
});
afterAll(() => pki.remove());
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close().catch(() => undefined);
  for (const p of procs.splice(0)) {
    if (p.exitCode === null && p.signalCode === null) {
      const exited = new Promise((resolve) => p.once('exit', resolve));
      p.kill('SIGTERM');
      await exited;
    }
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

interface HubProcess {
  proc: ChildProcess;
  mqttUrl: string;
  iothubPort: number;
  /** pino lines so far. */
  lines(): { msg: string; [k: string]: unknown }[];
}

async function startHub(dataDir: string): Promise<HubProcess> {
  const proc = spawn(process.execPath, [main, '--mqtt-port', '0', '--iothub-port', '0', '--data-dir', dataDir,
    '--tls-cert', pki.serverCertFile, '--tls-key', pki.serverKeyFile, '--tls-ca', pki.caFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  procs.push(proc);
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  const iothubUrl = await until(() => /"iothubUrl":"([^"]+)"/.exec(out)?.[1], 'the hub process to start');
  return {
    proc,
    mqttUrl: /"mqttUrl":"([^"]+)"/.exec(out)![1]!,
    iothubPort: Number(new URL(iothubUrl).port),
    lines: () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { msg: string }),
  };
}

async function kill9(h: HubProcess): Promise<void> {
  const exited = new Promise((resolve) => h.proc.once('exit', resolve));
  h.proc.kill('SIGKILL');
  await exited;
}

async function device(h: HubProcess, cs: string, extra: Record<string, unknown> = {}): Promise<DeviceClient> {
  const c = Client.fromConnectionString(`HostName=localhost:${h.iothubPort};${cs}`, Mqtt);
  clients.push(c);
  await c.setOptions({ ca: readFileSync(pki.caFile, 'utf8'), ...extra });
  await c.open();
  return c;
}

function listen(c: DeviceClient): SdkMessage[] {
  const got: SdkMessage[] = [];
  c.on('message', (m: SdkMessage) => {
    got.push(m);
    void c.complete(m);
  });
  return got;
}

const assignment = (deliveryId: string, droneId: string): DeliveryAssignment => ({
  v: 1, deliveryId, droneId, ts: Date.now(), correlationId: `corr-${deliveryId}`, action: 'fly',
  pickup: { lat: 47.399, lon: 8.547 }, dropoff: { lat: 47.401, lon: 8.55 }, cruiseAltM: 30, groundDelayS: 5,
});

async function fleetDir(): Promise<{ dir: string; sasKey: string; coreSecret: string; mqttSecret: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'aerie-hub-iothub-durable-'));
  dirs.push(dir);
  const registry = await FileDeviceRegistry.open(join(dir, 'devices.json'));
  const sasKey = (await registry.add('drone-001', 'drone', 'sas')).secret;
  const mqttSecret = (await registry.add('drone-mqtt', 'drone')).secret;
  const coreSecret = (await registry.add('svc-core', 'service')).secret;
  // The operator's way to register an X.509 IoT Hub device: no secret to print.
  const out = execFileSync(process.execPath, [main, 'device', 'add', 'drone-x509', '--auth', 'x509', '--data-dir', dir], { encoding: 'utf8' });
  expect(out).toContain('IoT Hub X.509 device: no secret');
  expect(execFileSync(process.execPath, [main, 'device', 'list', '--data-dir', dir], { encoding: 'utf8' })).toMatch(/drone-x509\tdrone x509\tactive/);
  return { dir, sasKey, coreSecret, mqttSecret };
}

describe('aerie-hub IoT Hub endpoint state across kill -9', () => {
  it('delivers C2D queued for offline SAS and X.509 devices (never connected) exactly once after kill -9; reported twin properties keep their version', async () => {
    const { dir, sasKey, coreSecret } = await fleetDir();
    const first = await startHub(dir);
    // Reported properties, twice: version 3.
    const c = await device(first, `DeviceId=drone-001;SharedAccessKey=${sasKey}`);
    const twin = await c.getTwin();
    const reported = twin.properties.reported as { update(patch: unknown, done: (err?: Error) => void): void };
    for (const patch of [{ agentVersion: '0.9.0', config: { publishHz: 2 } }, { agentVersion: '1.0.0' }]) {
      await new Promise<void>((resolve, reject) => reported.update(patch, (err) => (err ? reject(err) : resolve())));
    }
    clients.splice(clients.indexOf(c), 1);
    await c.close();

    // Both devices offline; drone-x509 has never connected: the hub knows it from the registry.
    const core = await mqtt.connectAsync(first.mqttUrl, { clientId: 'svc-core', username: 'svc-core', password: coreSecret, protocolVersion: 4, reconnectPeriod: 0 });
    await core.publishAsync(topics.assignment('dlv-sas'), encodeMessage(assignment('dlv-sas', 'drone-001')), { qos: 1, retain: true });
    await core.publishAsync(topics.assignment('dlv-x509'), encodeMessage(assignment('dlv-x509', 'drone-x509')), { qos: 1, retain: true });
    await core.endAsync();
    // Queued means on disk (the journal is fdatasync'ed before a message may be sent).
    const journal = () => readFileSync(join(dir, 'iothub', 'journal.jsonl'), 'utf8');
    await until(() => journal().includes('"mission-dlv-sas"') && journal().includes('"mission-dlv-x509"'), 'both missions in the C2D journal');
    await kill9(first);

    const restartedAt = Date.now();
    const second = await startHub(dir);
    const sas = await device(second, `DeviceId=drone-001;SharedAccessKey=${sasKey}`);
    const sasGot = listen(sas);
    const cert = pki.client('drone-x509');
    const x509 = await device(second, 'DeviceId=drone-x509;x509=true', { cert: cert.cert, key: cert.key });
    const x509Got = listen(x509);
    await until(() => sasGot.length > 0 && x509Got.length > 0, 'both queued missions after the restart');
    // The restarted hub sends each mission again (its retained assignment replayed, and the
    // device's online flag when the replay came first): recognised by commandId, not queued twice.
    const duplicates = (h: HubProcess, id: string) => h.lines().filter((l) => l.reason === 'IOTHUB_C2D_DUPLICATE' && l.messageId === id).length;
    await until(() => duplicates(second, 'mission-dlv-sas') >= 1 && duplicates(second, 'mission-dlv-x509') >= 1, 'the replayed missions recognised as duplicates');
    // A round trip on each connection after those: anything queued twice would have arrived by now.
    const sasTwin = await sas.getTwin();
    await x509.getTwin();
    expect(sasGot.map((m) => m.messageId)).toEqual(['mission-dlv-sas']);
    expect(x509Got.map((m) => m.messageId)).toEqual(['mission-dlv-x509']);
    const body = JSON.parse(String(sasGot[0]!.data as unknown)) as DroneCommand;
    expect(body).toMatchObject({ commandId: 'mission-dlv-sas', droneId: 'drone-001', action: { kind: 'mission' } });
    // Queued by the first process: its expiry (enqueue + 1 h TTL) predates the restart's + 1 h.
    expect(Date.parse(String(sasGot[0]!.expiryTimeUtc))).toBeLessThan(restartedAt + 3_600_000);
    expect(sasTwin.properties.reported).toMatchObject({ agentVersion: '1.0.0', config: { publishHz: 2 }, $version: 3 });

    // Completed on PUBACK, and that too is durable: another kill -9 delivers nothing again.
    await until(() => (journal().match(/"t":"done"/g) ?? []).length >= 2 || readFileSync(join(dir, 'iothub', 'state.json'), 'utf8').includes('"t":"done"'), 'the completions on disk');
    for (const cl of clients.splice(0)) await cl.close();
    await kill9(second);
    const third = await startHub(dir);
    const again = await device(third, `DeviceId=drone-001;SharedAccessKey=${sasKey}`);
    const againGot = listen(again);
    await until(() => duplicates(third, 'mission-dlv-sas') >= 1, 'the third process recognising the mission as delivered');
    await again.getTwin();
    expect(againGot).toEqual([]);
  });
});

describe('aerie-hub device revoke while the hub runs', () => {
  it('drops a live IoT Hub-endpoint session and a live MQTT session at once and refuses their reconnect', async () => {
    const { dir, sasKey, mqttSecret } = await fleetDir();
    const hub = await startHub(dir);
    const c = await device(hub, `DeviceId=drone-001;SharedAccessKey=${sasKey}`);
    // The SDK's default policy retries quietly; without retries it reports the drop.
    c.setRetryPolicy({ shouldRetry: () => false, nextRetryTimeout: () => 0 });
    const sdkGone = new Promise((resolve) => c.once('disconnect', resolve));
    const m = await mqtt.connectAsync(hub.mqttUrl, { clientId: 'drone-mqtt', username: 'drone-mqtt', password: mqttSecret, protocolVersion: 4, reconnectPeriod: 0 });
    const mqttGone = new Promise<void>((resolve) => m.once('close', () => resolve()));

    execFileSync(process.execPath, [main, 'device', 'revoke', 'drone-001', '--data-dir', dir]);
    execFileSync(process.execPath, [main, 'device', 'revoke', 'drone-mqtt', '--data-dir', dir]);
    await Promise.all([sdkGone, mqttGone]);
    m.end(true);
    expect(hub.lines().filter((l) => l.msg.startsWith('hub revoked')).map((l) => l.droneId).sort()).toEqual(['drone-001', 'drone-mqtt']);

    clients.splice(clients.indexOf(c), 1);
    await c.close().catch(() => undefined);
    await expect(device(hub, `DeviceId=drone-001;SharedAccessKey=${sasKey}`)).rejects.toThrow();
    await expect(mqtt.connectAsync(hub.mqttUrl, { clientId: 'drone-mqtt', username: 'drone-mqtt', password: mqttSecret, protocolVersion: 4, reconnectPeriod: 0 })).rejects.toThrow();
    await until(() => hub.lines().some((l) => l.msg.includes('IOTHUB_REVOKED') && l.clientId === 'drone-001'), 'the refused IoT Hub reconnect logged');
  });
});
