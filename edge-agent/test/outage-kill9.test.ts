import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { DiskSpool } from '../src/index.js';
import { startTlsMosquitto, type RunningTlsMosquitto } from '../../test-support/mosquitto-tls.js';
import { until } from '../../test-support/until.js';
import { heartbeatingFc, spawnAgent, spooled, stopWith, tlsRig, writeAgentConfig, type Cleanups } from './agent-process.js';

/*
 * Issue 3, "Verify against real data": kill -9 during an outage loses nothing that was queued.
 * The real agent process (dist/main.js) with a disk spool, a scripted FC heartbeating over UDP
 * and Debian's Mosquitto over TLS: the broker goes away, the agent queues, it is killed with
 * SIGKILL, the broker comes back, a new agent process on the same spool drains every queued
 * record. Then a SIGKILL with the broker up makes the broker publish the last will.
 */

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Wire { topic: string; bootId?: string; seq?: number; raw: string; retained: boolean }

function watcher(url: string, ca: string): Promise<{ client: MqttClient; got: Wire[] }> {
  const client = mqtt.connect(url, { ca: readFileSync(ca), username: 'svc', password: 'svc-pw', reconnectPeriod: 0 });
  cleanups.push(() => client.endAsync(true));
  const got: Wire[] = [];
  client.on('message', (topic, p, packet) => {
    const raw = p.toString();
    const parsed = raw.startsWith('{') ? (JSON.parse(raw) as { bootId?: string; seq?: number }) : {};
    got.push({ topic, raw, retained: packet.retain, ...(parsed.bootId ? { bootId: parsed.bootId, seq: parsed.seq } : {}) });
  });
  return new Promise((resolve) => client.once('connect', () => client.subscribe('fleet/v1/drone-k9/#', { qos: 1 }, () => resolve({ client, got }))));
}

const startAgent = (configPath: string): ChildProcess => spawnAgent(cleanups, configPath);
const killed = (child: ChildProcess): Promise<void> => stopWith(child, 'SIGKILL');

describe('kill -9 during an MQTT outage (real agent process, Debian\'s Mosquitto)', () => {
  it('loses nothing that was queued: a new process drains every spooled status and event; a kill with the broker up fires the last will', async () => {
    const { tls, dir } = tlsRig(cleanups, 'drone-k9', 'aerie-k9-');
    const users = [{ username: 'drone-k9', password: 'k9-pw' }, { username: 'svc', password: 'svc-pw' }];
    let broker: RunningTlsMosquitto = await startTlsMosquitto(tls, { requireCertificate: false, users });
    cleanups.push(() => broker.stop());

    const { fc, fcPort, beat } = await heartbeatingFc(cleanups);
    const { configPath, spoolDir, statusFile } = writeAgentConfig(dir, { droneId: 'drone-k9', fcPort, mqtt: { url: broker.url, ca: tls.ca, username: 'drone-k9', password: 'k9-pw' }, publishHz: 5 });

    const live = await watcher(broker.url, tls.ca);
    let agent = startAgent(configPath);
    await until(() => live.got.filter((w) => w.topic.endsWith('/status')).length >= 3, 'live statuses from the first agent', 20_000);
    expect(live.got.some((w) => w.topic.endsWith('/online') && w.raw === 'true')).toBe(true);
    const firstBoot = live.got.find((w) => w.bootId)!.bootId!;

    // Outage: the broker goes away; the agent keeps publishing into its spool. A link event is queued too.
    await live.client.endAsync(true);
    await broker.stop();
    await until(() => spooled(statusFile) >= 10, 'ten records spooled during the outage', 20_000);
    clearInterval(beat);
    await new Promise((r) => setTimeout(r, 3_500)); // heartbeats stop: link_lost is queued as an event
    await killed(agent);

    // What the dead process had queued, read the way the next process will read it.
    const spool = new DiskSpool(spoolDir, { maxBytes: 16 << 20, statusMaxAgeMs: 3_600_000, eventMaxAgeMs: 86_400_000 });
    const queued = spool.peek(1e6).map((r) => {
      const { bootId, seq } = JSON.parse(r.body.toString()) as { bootId: string; seq: number };
      return { kind: r.kind, bootId, seq };
    });
    spool.close();
    expect(queued.length).toBeGreaterThanOrEqual(10);
    expect(queued.every((q) => q.bootId === firstBoot)).toBe(true);
    expect(queued.some((q) => q.kind === 'event')).toBe(true);

    broker = await startTlsMosquitto(tls, { requireCertificate: false, users, port: broker.port });
    const after = await watcher(broker.url, tls.ca);
    const beat2 = setInterval(() => fc.heartbeat(), 200);
    cleanups.push(() => clearInterval(beat2));
    agent = startAgent(configPath);
    const key = (x: { bootId?: string; seq?: number; kind?: string; topic?: string }): string => `${x.kind ?? (x.topic!.endsWith('/events') ? 'event' : 'status')}:${x.bootId}:${x.seq}`;
    await until(() => {
      const seen = new Set(after.got.filter((w) => w.bootId).map(key));
      return queued.every((q) => seen.has(key(q)));
    }, 'every queued record delivered by the restarted agent', 30_000);
    // Live data of the new boot flows too; downstream tells the boots apart (and dedupes) by (bootId, seq).
    await until(() => after.got.some((w) => w.topic.endsWith('/status') && w.bootId !== undefined && w.bootId !== firstBoot), 'live data from the new boot');

    // kill -9 with the broker up: no clean DISCONNECT, so the broker publishes the will `false` [MQTT-3.1.2-8].
    await until(() => after.got.some((w) => w.topic.endsWith('/online') && w.raw === 'true' && !w.retained), 'online=true from the new agent');
    await killed(agent);
    await until(() => after.got.some((w) => w.topic.endsWith('/online') && w.raw === 'false'), 'the last will', 20_000);
  }, 90_000);
});
