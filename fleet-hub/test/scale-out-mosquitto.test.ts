import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { encodeMessage, topics } from '@aerie/contracts';
import { startMosquitto, type RunningMosquitto } from '../../test-support/mosquitto.js';
import { droneStatus } from '../../test-support/fixtures.js';
import { until } from '../../test-support/until.js';

// Two real aerie-hub processes on Debian's Mosquitto, sharing the fleet through an MQTT 5
// shared subscription ($share/hubs/…): every status is taken in by exactly one of them.
const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const drones = ['drone-001', 'drone-002', 'drone-003', 'drone-004'];
let broker: RunningMosquitto;
const hubs: { proc: ChildProcess; metricsUrl: string }[] = [];
const dataDir = mkdtempSync(join(tmpdir(), 'aerie-hub-scale-'));

async function startHub(): Promise<{ proc: ChildProcess; metricsUrl: string }> {
  const proc = spawn(process.execPath, [main, '--external-url', broker.url, '--external-username', 'svc-hub', '--external-password', 'hub-secret',
    '--shared-group', 'hubs', '--metrics-port', '0', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  const metricsUrl = await until(() => {
    for (const line of out.split('\n')) {
      if (!line.startsWith('{')) continue;
      const j = JSON.parse(line) as { metricsUrl?: string };
      if (j.metricsUrl) return j.metricsUrl;
    }
    return undefined;
  }, 'the hub process to start', 20_000);
  return { proc, metricsUrl };
}

async function statusesTakenIn(metricsUrl: string): Promise<number> {
  const text = await (await fetch(`${metricsUrl}/metrics`)).text();
  const m = /^aerie_hub_messages_in_total\{channel="status"\} (\d+)$/m.exec(text);
  return m ? Number(m[1]) : 0;
}

beforeAll(async () => {
  broker = await startMosquitto([
    { username: 'svc-hub', password: 'hub-secret', role: 'service' },
    ...drones.map((d) => ({ username: d, password: `pw-${d}`, role: 'drone' as const })),
  ]);
  hubs.push(await startHub(), await startHub());
}, 60_000);

afterAll(async () => {
  for (const h of hubs) {
    const exited = new Promise((r) => h.proc.once('exit', r));
    h.proc.kill('SIGTERM');
    await exited;
  }
  await broker?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('scale-out: two hub processes on Mosquitto with an MQTT 5 shared subscription', () => {
  it('hands every status to exactly one hub and loses none', async () => {
    const perDrone = 250;
    await Promise.all(drones.map(async (id) => {
      const c = await mqtt.connectAsync(broker.url, { clientId: id, username: id, password: `pw-${id}`, protocolVersion: 5, reconnectPeriod: 0 });
      for (let seq = 1; seq <= perDrone; seq++) await c.publishAsync(topics.status(id), encodeMessage(droneStatus({ droneId: id, seq })), { qos: 1 });
      await c.endAsync();
    }));
    const total = drones.length * perDrone;
    let counts: number[] = [];
    // A bound against hangs, not a timing assertion (until() takes no async probe).
    for (const end = Date.now() + 30_000; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
      counts = await Promise.all(hubs.map((h) => statusesTakenIn(h.metricsUrl)));
      if (counts[0]! + counts[1]! >= total) break;
    }
    expect(counts[0]! + counts[1]!).toBe(total);
    expect(counts.every((n) => n > 0)).toBe(true);
    const text = await (await fetch(`${hubs[0]!.metricsUrl}/metrics`)).text();
    expect(text).toContain('aerie_hub_shed_total{kind="status"} 0');
    const notFound = await fetch(`${hubs[0]!.metricsUrl}/nope`);
    expect(notFound.status).toBe(404);
    expect(notFound.headers.get('content-type')).toBe('application/problem+json');
  }, 60_000);
});
