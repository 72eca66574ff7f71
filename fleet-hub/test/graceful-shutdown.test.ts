import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { encodeMessage, topics } from '@aerie/contracts';
import { startMosquitto, type MosquittoUser, type RunningMosquitto } from '../../test-support/mosquitto.js';
import { droneStatus } from '../../test-support/fixtures.js';
import { until } from '../../test-support/until.js';
import { FleetHub, hubConfig, MemoryDeviceRegistry } from '../src/index.js';

/*
 * Issue 8, Health: liveness, readiness and a graceful SIGTERM, on real `aerie-hub` processes —
 * two in a shared group on Debian's Mosquitto, and one with its embedded broker. Statuses are
 * accounted by (droneId, bootId, seq) from each hub's status journal (--status-journal).
 */

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const drones = ['drone-g1', 'drone-g2', 'drone-g3', 'drone-g4'];
const users: MosquittoUser[] = [
  { username: 'svc-hub', password: 'hub-secret', role: 'service' },
  ...drones.map((d) => ({ username: d, password: `pw-${d}`, role: 'drone' as const })),
];
const dir = mkdtempSync(join(tmpdir(), 'aerie-hub-graceful-'));
let broker: RunningMosquitto;
const children: ChildProcess[] = [];

interface HubProcess { proc: ChildProcess; metricsUrl: string; mqttUrl: string; journal: string; exited: Promise<number | null>; stdout: () => string }

async function startHub(name: string, args: string[]): Promise<HubProcess> {
  const journal = join(dir, name, 'statuses.jsonl');
  const proc = spawn(process.execPath, [main, ...args, '--metrics-port', '0', '--data-dir', join(dir, name), '--status-journal', journal], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(proc);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  const started = await until(() => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { metricsUrl?: string; mqttUrl?: string }).find((j) => j.metricsUrl), `${name} to start`, 20_000);
  return { proc, metricsUrl: started.metricsUrl!, mqttUrl: started.mqttUrl ?? '', journal, exited, stdout: () => out };
}

const sharedHub = (name: string) => startHub(name, ['--external-url', broker.url, '--external-username', 'svc-hub', '--external-password', 'hub-secret', '--shared-group', 'hubs']);

async function probe(url: string): Promise<{ status: number; body: { status?: string; checks?: Record<string, string> } } | null> {
  try {
    const res = await fetch(url);
    return { status: res.status, body: (await res.json()) as { status?: string; checks?: Record<string, string> } };
  } catch {
    return null; // not listening (the process exited)
  }
}

/** Polls an async probe; a bound against hangs, never a timing assertion. */
async function eventually<T>(what: string, fn: () => Promise<T | null | undefined | false>, ms = 20_000): Promise<T> {
  for (const end = Date.now() + ms; ; await new Promise((r) => setTimeout(r, 50))) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
  }
}

const readyz = (h: HubProcess) => probe(`${h.metricsUrl}/readyz`);

function journalKeys(h: HubProcess): string[] {
  if (!existsSync(h.journal)) return [];
  return readFileSync(h.journal, 'utf8').split('\n').filter(Boolean).map((l) => {
    const j = JSON.parse(l) as { droneId: string; bootId: string; seq: number };
    return `${j.droneId}/${j.bootId}/${j.seq}`;
  });
}

beforeAll(async () => {
  broker = await startMosquitto(users);
}, 30_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('fleet-hub health and graceful shutdown (aerie-hub processes)', () => {
  let survivor: HubProcess;

  it('SIGTERM to one hub of a shared group while QoS 1 statuses flow: every status taken exactly once by the two, and the hub exits 0', async () => {
    const a = await sharedHub('hub-a');
    const b = await sharedHub('hub-b');
    survivor = b;
    for (const h of [a, b]) {
      const r = await eventually('the hub ready', async () => ((await readyz(h))?.status === 200 ? readyz(h) : null));
      expect(r.body).toEqual({ status: 'ready', checks: { registry: 'ok', mqtt: 'ok', subscriptions: 'ok', eventLog: 'ok' } });
      expect((await probe(`${h.metricsUrl}/livez`))?.status).toBe(200);
    }
    const perDrone = 600;
    const total = drones.length * perDrone;
    let sent = 0;
    const afterTerm: { readyz?: Promise<number> } = {};
    const bootId = `boot-${Date.now()}`;
    await Promise.all(drones.map(async (id) => {
      const c = await mqtt.connectAsync(broker.url, { clientId: id, username: id, password: `pw-${id}`, protocolVersion: 5, reconnectPeriod: 0 });
      for (let seq = 1; seq <= perDrone; seq++) {
        await c.publishAsync(topics.status(id), encodeMessage(droneStatus({ droneId: id, bootId, seq })), { qos: 1 });
        // A third of the way through, while the broker is handing statuses to both hubs.
        if (++sent === Math.floor(total / 3)) {
          a.proc.kill('SIGTERM');
          // Once the hub has taken the signal (its log says so): 503 while it drains, or already gone.
          afterTerm.readyz = until(() => a.stdout().includes('"msg":"aerie-hub stopping"'), 'the hub to take SIGTERM').then(() => readyz(a)).then((r) => r?.status ?? 0);
        }
      }
      await c.endAsync();
    }));
    expect(await a.exited).toBe(0);
    expect(afterTerm.readyz).toBeDefined();
    expect(await afterTerm.readyz).not.toBe(200);
    const taken = await eventually('every status in a journal', () => {
      const keys = [...journalKeys(a), ...journalKeys(b)];
      return Promise.resolve(keys.length >= total ? keys : null);
    });
    // Let anything late (a duplicate) land before counting.
    await new Promise((r) => setTimeout(r, 300));
    const fromA = journalKeys(a);
    const fromB = journalKeys(b);
    expect(taken.length).toBe(total);
    expect(fromA.length + fromB.length).toBe(total);
    expect(new Set([...fromA, ...fromB]).size).toBe(total);
    expect(fromA.length).toBeGreaterThan(0);
    expect(fromB.length).toBeGreaterThan(0);
  }, 60_000);

  it('/readyz answers 503 while Mosquitto is stopped and 200 once it is back (subscribed again); /livez stays 200', async () => {
    const port = broker.port;
    await broker.stop();
    const down = await eventually('503 with the broker gone', async () => {
      const r = await readyz(survivor);
      return r?.status === 503 ? r : null;
    });
    expect(down.body.status).toBe('not_ready');
    expect(down.body.checks?.mqtt).toMatch(/^not connected/);
    expect(down.body.checks?.subscriptions).toBe('not granted');
    expect((await probe(`${survivor.metricsUrl}/livez`))?.status).toBe(200);
    broker = await startMosquitto(users, { port });
    const up = await eventually('200 with the broker back', async () => {
      const r = await readyz(survivor);
      return r?.status === 200 ? r : null;
    });
    expect(up.body.checks).toMatchObject({ mqtt: 'ok', subscriptions: 'ok' });
    // The subscriptions are real: a status sent now is taken in.
    const before = journalKeys(survivor).length;
    const c = await mqtt.connectAsync(broker.url, { clientId: 'drone-g1', username: 'drone-g1', password: 'pw-drone-g1', protocolVersion: 5, reconnectPeriod: 0 });
    await c.publishAsync(topics.status('drone-g1'), encodeMessage(droneStatus({ droneId: 'drone-g1', bootId: 'boot-after', seq: 1 })), { qos: 1 });
    await c.endAsync();
    await eventually('the status after the broker restart', () => Promise.resolve(journalKeys(survivor).length > before));
    survivor.proc.kill('SIGTERM');
    expect(await survivor.exited).toBe(0);
  }, 60_000);

  it('embedded broker: SIGTERM closes the drones\' connections, writes every acknowledged status and exits 0', async () => {
    const data = join(dir, 'hub-e');
    const out = execFileSync(process.execPath, [main, 'device', 'add', 'drone-e2', '--data-dir', data]).toString();
    const secret = /shown once\): (\S+)/.exec(out)![1]!;
    const hub = await startHub('hub-e', ['--mqtt-port', '0']);
    const ready = await eventually('the embedded hub ready', async () => {
      const r = await readyz(hub);
      return r?.status === 200 ? r : null;
    });
    expect(ready.body.checks).toMatchObject({ listeners: 'ok', registry: 'ok', mqtt: 'ok', subscriptions: 'ok', eventLog: 'ok' });
    const drone = await mqtt.connectAsync(hub.mqttUrl, { clientId: 'drone-e2', username: 'drone-e2', password: secret, protocolVersion: 4, reconnectPeriod: 0 });
    const closed = new Promise<void>((r) => drone.once('close', () => r()));
    // Under the drone's burst allowance (1,000), sent at once: SIGTERM lands while the hub still
    // holds acknowledged statuses in its queue, which it must write before it exits.
    const n = 900;
    const acked: string[] = [];
    for (let seq = 1; seq <= n; seq++) {
      drone.publish(topics.status('drone-e2'), encodeMessage(droneStatus({ droneId: 'drone-e2', bootId: 'boot-e', seq })), { qos: 1 }, (err) => {
        if (err) return;
        acked.push(`drone-e2/boot-e/${seq}`);
        if (acked.length === n / 3) hub.proc.kill('SIGTERM');
      });
    }
    await closed;
    expect(await hub.exited).toBe(0);
    drone.end(true);
    const keys = journalKeys(hub);
    expect(acked.length).toBeGreaterThanOrEqual(n / 3);
    expect(acked.filter((k) => !keys.includes(k))).toEqual([]);
    expect(new Set(keys).size).toBe(keys.length);
  }, 60_000);

  it('readiness turns 503 the moment shutdown starts, naming it', async () => {
    const registry = new MemoryDeviceRegistry();
    const hub = await FleetHub.start(hubConfig({ mqttPort: 0, dataDir: join(dir, 'in-process') }), { registry, log: () => undefined });
    expect(hub.readiness()).toMatchObject({ ready: true, checks: { listeners: 'ok', registry: 'ok' } });
    const done = hub.shutdown();
    expect(hub.readiness()).toMatchObject({ ready: false, checks: { listeners: 'not accepting connections', shutdown: 'in progress' } });
    await done;
  });
});
