import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { decodeMessage, encodeMessage, subscriptions, topics, type DeliveryAssignment, type DeliveryTracking } from '@aerie/contracts';
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

  it('tracks a delivery whose statuses the two hubs split: each stage published once, in order', async () => {
    const core = await mqtt.connectAsync(broker.url, { clientId: 'core-test', username: 'svc-hub', password: 'hub-secret', protocolVersion: 5, reconnectPeriod: 0 });
    const presence = new Set<string>();
    const tracking: DeliveryTracking[] = [];
    core.on('message', (topic, payload) => {
      if (topic.endsWith('/presence') && payload.length > 0) presence.add(topic);
      const d = decodeMessage('DeliveryTracking', payload);
      if (d.ok && d.value.deliveryId === 'dlv-shared') tracking.push(d.value);
    });
    await core.subscribeAsync(['svc/v1/hubs/+/presence', subscriptions.allTracking], { qos: 1 });
    await until(() => presence.size === 2, 'both hubs present');
    const pickup = { lat: 47.399, lon: 8.547 };
    const dropoff = { lat: 47.401, lon: 8.55 };
    const assignment: DeliveryAssignment = {
      v: 1, deliveryId: 'dlv-shared', droneId: 'drone-001', ts: 1, correlationId: 'corr-shared', action: 'fly', pickup, dropoff, cruiseAltM: 30, groundDelayS: 5,
    };
    await core.publishAsync(topics.assignment('dlv-shared'), encodeMessage(assignment), { qos: 1, retain: true });

    const before = await Promise.all(hubs.map((h) => statusesTakenIn(h.metricsUrl)));
    const drone = await mqtt.connectAsync(broker.url, { clientId: 'drone-001', username: 'drone-001', password: 'pw-drone-001', protocolVersion: 5, reconnectPeriod: 0 });
    const home = { lat: 47.3977, lon: 8.5456 };
    const phases = [[home, 'TAKEOFF'], [pickup, 'ON_GROUND'], [pickup, 'TAKEOFF'], [dropoff, 'ON_GROUND']] as const;
    const perPhase = 20;
    let seq = 1_000;
    for (const [p, landedState] of phases) {
      for (let i = 0; i < perPhase; i++) {
        seq += 1;
        const s = droneStatus({ droneId: 'drone-001', seq, ts: 1_700_000_000_000 + seq * 100, armed: true, landedState, position: { ...p, altMsl: 488, altRel: landedState === 'ON_GROUND' ? 0 : 10 } });
        await drone.publishAsync(topics.status('drone-001'), encodeMessage(s), { qos: 1 });
      }
      // Let the phase settle across both hubs (forwarding is one more broker hop) before the next.
      await new Promise((r) => setTimeout(r, 300));
    }
    await until(() => tracking.some((t) => t.type === 'DeliveryCompleted'), 'the delivery completed');
    let counts: number[] = [];
    for (const end = Date.now() + 30_000; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
      counts = (await Promise.all(hubs.map((h) => statusesTakenIn(h.metricsUrl)))).map((n, i) => n - before[i]!);
      if (counts[0]! + counts[1]! >= phases.length * perPhase) break;
    }
    // Every status handled by exactly one hub, both took part, none lost.
    expect(counts[0]! + counts[1]!).toBe(phases.length * perPhase);
    expect(counts.every((n) => n > 0)).toBe(true);
    const stages = tracking.filter((t) => t.type !== 'EtaUpdated' && t.type !== 'DeliveryAlert').map((t) => t.type);
    expect(stages).toEqual(['DeliveryHeadedToPickup', 'PackagePickedUp', 'DeliveryHeadedToDropoff', 'DeliveryCompleted']);
    expect(tracking.every((t) => t.correlationId === 'corr-shared')).toBe(true);
    await core.publishAsync(topics.assignment('dlv-shared'), '', { qos: 1, retain: true });
    await drone.endAsync();
    await core.endAsync();
  }, 60_000);
});
