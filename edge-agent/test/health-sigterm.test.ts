import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { startSimVehicle, type SimVehicle } from '@aerie/simulator';
import { DiskSpool } from '../src/index.js';
import { startMosquitto, type MosquittoUser, type RunningMosquitto } from '../../test-support/mosquitto.js';
import { freePort } from '../../test-support/servers.js';
import { until } from '../../test-support/until.js';

/*
 * Issue 8, Health, for the agent: /livez and /readyz (--health-port) on the real agent process
 * flying the simulator over UDP MAVLink, Debian's Mosquitto behind a TCP relay the test can
 * freeze (the broker stops acknowledging, the connection stays up) and cut (offline). SIGTERM
 * while offline hands back what the broker never acknowledged — in flight when it froze, and
 * spooled since — into the disk spool; the next start publishes each of those statuses once.
 */

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const users: MosquittoUser[] = [{ username: 'drone-hs', password: 'hs-pw', role: 'drone' }, { username: 'svc', password: 'svc-pw', role: 'service' }];
const dir = mkdtempSync(join(tmpdir(), 'aerie-agent-health-'));
const cleanups: (() => Promise<unknown> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});

/** A TCP relay to the broker: `freeze` stops forwarding the agent's bytes (no PUBACK comes back), `cut` drops it all. */
class Relay {
  private server: Server | null = null;
  private readonly pairs = new Set<[Socket, Socket]>();
  constructor(readonly port: number, private readonly target: () => number) {}

  async open(): Promise<void> {
    const server = createServer((down) => {
      const up = connect(this.target(), '127.0.0.1');
      const pair: [Socket, Socket] = [down, up];
      this.pairs.add(pair);
      const drop = () => {
        down.destroy();
        up.destroy();
        this.pairs.delete(pair);
      };
      for (const s of pair) s.on('error', drop).on('close', drop);
      down.pipe(up);
      up.pipe(down);
    });
    await new Promise<void>((r) => server.listen(this.port, '127.0.0.1', () => r()));
    this.server = server;
  }

  freeze(): void {
    for (const [down] of this.pairs) {
      down.unpipe();
      down.pause();
    }
  }

  async cut(): Promise<void> {
    for (const [down, up] of this.pairs) {
      down.destroy();
      up.destroy();
    }
    this.pairs.clear();
    const s = this.server;
    this.server = null;
    await new Promise<void>((r) => (s ? s.close(() => r()) : r()));
  }
}

interface Agent { proc: ChildProcess; healthUrl: string; exited: Promise<number | null>; stderr: () => string }

async function startAgent(configPath: string): Promise<Agent> {
  const proc = spawn(process.execPath, [main, '--config', configPath, '--health-port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  cleanups.push(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  const started = await until(() => stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; healthUrl?: string }).find((j) => j.msg === 'started'), 'the agent to start', 20_000);
  return { proc, healthUrl: started.healthUrl!, exited, stderr: () => stderr };
}

async function probe(url: string): Promise<{ status: number; body: { status: string; checks: Record<string, string> } } | null> {
  try {
    const res = await fetch(url);
    return { status: res.status, body: (await res.json()) as { status: string; checks: Record<string, string> } };
  } catch {
    return null;
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

const readyzIs = (a: Agent, status: number) => eventually(`/readyz ${status}`, async () => {
  const r = await probe(`${a.healthUrl}/readyz`);
  return r?.status === status ? r : null;
});

describe('edge agent health and SIGTERM (real agent process, simulator, Debian\'s Mosquitto)', () => {
  it('/readyz follows the broker; SIGTERM while offline spools what was never acknowledged, and the next start publishes each status once', async () => {
    let broker: RunningMosquitto = await startMosquitto(users);
    cleanups.push(() => broker.stop());
    const relay = new Relay(await freePort(), () => broker.port);
    await relay.open();
    cleanups.push(() => relay.cut());
    const fcPort = await freePort();
    const vehicle: SimVehicle = await startSimVehicle({ sysid: 9, home: { lat: 47.3977, lon: 8.5456, altMsl: 488 }, port: 0, peer: { address: '127.0.0.1', port: fcPort } });
    cleanups.push(() => vehicle.stop());
    const spoolDir = join(dir, 'spool');
    const statusFile = join(dir, 'status.json');
    const configPath = join(dir, 'agent.json');
    writeFileSync(configPath, JSON.stringify({
      droneId: 'drone-hs',
      fc: { link: 'udp', host: '127.0.0.1', port: fcPort, linkTimeoutMs: 1000 },
      mqtt: { url: `mqtt://127.0.0.1:${relay.port}`, username: 'drone-hs', password: 'hs-pw' },
      publishHz: 10, publishHzInFlight: 10,
      spool: { dir: spoolDir },
      statusFile,
    }));

    let agent = await startAgent(configPath);
    const ready = await readyzIs(agent, 200);
    expect(ready.body).toEqual({ status: 'ready', checks: { fc: 'ok', uplink: 'ok' } });
    expect((await probe(`${agent.healthUrl}/livez`))?.status).toBe(200);

    // The broker goes away and comes back on the same port: readiness follows, naming the uplink.
    const port = broker.port;
    await broker.stop();
    const down = await readyzIs(agent, 503);
    expect(down.body.status).toBe('not_ready');
    expect(down.body.checks.fc).toBe('ok');
    expect(down.body.checks.uplink).toMatch(/^not connected/);
    expect((await probe(`${agent.healthUrl}/livez`))?.status).toBe(200);
    broker = await startMosquitto(users, { port });
    await readyzIs(agent, 200);

    // Every status the broker takes from now on, as a subscriber sees it.
    const seen: { bootId: string; seq: number }[] = [];
    const watcher = await mqtt.connectAsync(broker.url, { username: 'svc', password: 'svc-pw', reconnectPeriod: 0 });
    cleanups.push(() => watcher.endAsync(true));
    watcher.on('message', (_t, p) => seen.push(JSON.parse(p.toString()) as { bootId: string; seq: number }));
    await watcher.subscribeAsync('fleet/v1/drone-hs/status', { qos: 1 });
    await until(() => seen.length >= 5, 'live statuses');
    const boot = seen[0]!.bootId;

    // Frozen: the connection stays up, nothing is acknowledged — statuses pile up in flight. Then cut: offline, spooled.
    relay.freeze();
    const lastLive = () => Math.max(...seen.filter((s) => s.bootId === boot).map((s) => s.seq));
    const frozenAt = lastLive();
    await new Promise((r) => setTimeout(r, 1_000));
    await relay.cut();
    await readyzIs(agent, 503);
    const spooled = () => {
      try {
        return existsSync(statusFile) ? ((JSON.parse(readFileSync(statusFile, 'utf8')) as { spool: { length: number } | null }).spool?.length ?? 0) : 0;
      } catch {
        return 0; // caught between write and rename
      }
    };
    await until(() => spooled() >= 5, 'statuses spooled while offline');
    agent.proc.kill('SIGTERM');
    expect(await agent.exited).toBe(0);

    // What the stopped process handed back, read the way the next one will read it.
    const spool = new DiskSpool(spoolDir, { maxBytes: 64 << 20, statusMaxAgeMs: 3_600_000, eventMaxAgeMs: 86_400_000 });
    const queued = spool.peek(1e6).filter((r) => r.kind === 'status').map((r) => JSON.parse(r.body.toString()) as { bootId: string; seq: number });
    spool.close();
    const last = Math.max(...queued.map((q) => q.seq));
    const missing: number[] = [];
    // Everything after what the subscriber saw live, through the last status published: spooled, none lost in flight.
    for (let seq = lastLive() + 1; seq <= last; seq++) if (!queued.some((q) => q.bootId === boot && q.seq === seq)) missing.push(seq);
    expect(missing).toEqual([]);
    expect(last - frozenAt).toBeGreaterThanOrEqual(10);

    await relay.open();
    agent = await startAgent(configPath);
    await until(() => queued.every((q) => seen.some((s) => s.bootId === q.bootId && s.seq === q.seq)), 'every spooled status delivered', 20_000);
    await readyzIs(agent, 200);
    const firstBoot = seen.filter((s) => s.bootId === boot).map((s) => s.seq);
    // Once each, and no gap in the first boot's statuses from the subscriber's first to the last.
    expect(firstBoot.length).toBe(new Set(firstBoot).size);
    expect(new Set(firstBoot).size).toBe(last - Math.min(...firstBoot) + 1);

    // The flight controller falls silent: not ready, naming the FC link, while the uplink is fine.
    await vehicle.stop();
    const noFc = await readyzIs(agent, 503);
    expect(noFc.body.checks.fc).toMatch(/^no heartbeat/);
    expect(noFc.body.checks.uplink).toBe('ok');
    agent.proc.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
  }, 60_000);
});
