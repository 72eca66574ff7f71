import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { agentConfig } from '../src/index.js';
import { envName, layeredInput } from '../src/config-file.js';
import { startTlsMosquitto, type RunningTlsMosquitto } from '../../test-support/mosquitto-tls.js';
import { until } from '../../test-support/until.js';
import { heartbeatingFc, spawnAgent, spooled, stopWith, tlsRig, writeAgentConfig, type Cleanups } from './agent-process.js';

/*
 * The publish journal (issue 8, bench:faults): one line per DroneStatus the broker acknowledged,
 * live or replayed from the spool. The real agent process, a scripted FC over UDP and Debian's
 * Mosquitto (with persistence, so the watcher's session and what was queued for it survive the
 * broker's restart and the watcher sees every status the broker took).
 */

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Id { bootId: string; seq: number; ts: number }
const key = (x: { bootId: string; seq: number }): string => `${x.bootId}:${x.seq}`;

function watcher(url: string, ca: string, got: Map<string, Id>): Promise<MqttClient> {
  // A persistent session: statuses the broker takes while the watcher reconnects wait for it.
  const client = mqtt.connect(url, { ca: readFileSync(ca), username: 'svc', password: 'svc-pw', clientId: 'journal-watcher', clean: false, reconnectPeriod: 200 });
  cleanups.push(() => client.endAsync(true));
  client.on('error', () => undefined);
  client.on('message', (_topic, p) => {
    const s = JSON.parse(p.toString()) as Id;
    got.set(key(s), { bootId: s.bootId, seq: s.seq, ts: s.ts });
  });
  return new Promise((resolve) => client.once('connect', () => client.subscribe('fleet/v1/drone-j/status', { qos: 1 }, () => resolve(client))));
}

function readJournal(path: string): (Id & { droneId: string })[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Id & { droneId: string });
}

// The journal comes from the environment here, the rest from the file: both ways are supported.
const startAgent = (configPath: string, journal: string) => spawnAgent(cleanups, configPath, { AERIE_AGENT_PUBLISH_JOURNAL: journal });

describe('the publish journal', () => {
  it('is off by default and set by the config key or AERIE_AGENT_PUBLISH_JOURNAL', () => {
    expect(agentConfig({ droneId: 'd' }).publishJournal).toBeNull();
    expect(envName('publishJournal')).toBe('AERIE_AGENT_PUBLISH_JOURNAL');
    expect(agentConfig(layeredInput({ droneId: 'd' }, { AERIE_AGENT_PUBLISH_JOURNAL: '/tmp/j.jsonl' }, {})).publishJournal).toBe('/tmp/j.jsonl');
    expect(agentConfig(layeredInput({ droneId: 'd', publishJournal: '/var/lib/aerie/journal.jsonl' }, {}, {})).publishJournal).toBe('/var/lib/aerie/journal.jsonl');
    expect(() => agentConfig({ droneId: 'd', publishJournal: '' })).toThrow(/publishJournal: must be a non-empty string/);
  });

  it('lists every status the broker acknowledged, live and replayed from the spool after an outage, exactly once; kill -9 loses only its tail', async () => {
    const { tls, dir } = tlsRig(cleanups, 'drone-j', 'aerie-journal-');
    const users = [{ username: 'drone-j', password: 'j-pw' }, { username: 'svc', password: 'svc-pw' }];
    const persistenceDir = join(dir, 'mosq');
    let broker: RunningTlsMosquitto = await startTlsMosquitto(tls, { requireCertificate: false, users, persistenceDir });
    cleanups.push(() => broker.stop());

    const { fcPort } = await heartbeatingFc(cleanups);
    const journal = join(dir, 'journal', 'publish.jsonl');
    const { configPath, statusFile } = writeAgentConfig(dir, { droneId: 'drone-j', fcPort, mqtt: { url: broker.url, ca: tls.ca, username: 'drone-j', password: 'j-pw' }, publishHz: 10 });
    const seen = new Map<string, Id>();
    await watcher(broker.url, tls.ca, seen);

    let agent = startAgent(configPath, journal);
    await until(() => readJournal(journal).length >= 5, 'journal lines from live statuses (flushed within a second)', 20_000);

    // Outage: the agent spools; nothing it spools is journaled until the broker has it.
    await broker.stop();
    await until(() => spooled(statusFile) >= 10, 'ten statuses spooled during the outage', 20_000);
    const duringOutage = readJournal(journal).length;
    await new Promise((r) => setTimeout(r, 1_500));
    // A flush or two later, still nothing new: a status only goes in once acknowledged (one may have been in flight).
    expect(readJournal(journal).length - duringOutage).toBeLessThanOrEqual(1);

    broker = await startTlsMosquitto(tls, { requireCertificate: false, users, persistenceDir, port: broker.port });
    await until(() => spooled(statusFile) === 0, 'the spool drained', 30_000);
    await until(() => readJournal(journal).length >= duringOutage + 20, 'replayed and live statuses journaled', 20_000);

    // SIGTERM: a clean stop writes the journal's last lines.
    await stopWith(agent, 'SIGTERM');
    const lines = readJournal(journal);
    await until(() => lines.every((l) => seen.has(key(l))), 'the watcher to have every journaled status', 20_000);
    const boot = lines[0]!.bootId;
    expect(lines.every((l) => l.droneId === 'drone-j' && l.bootId === boot)).toBe(true);
    const seqs = lines.map((l) => l.seq).sort((a, b) => a - b);
    // Every status of the boot, spooled or not, acknowledged once and journaled once.
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i));
    // What the broker got is what the journal lists, ids and timestamps alike.
    const ofBoot = [...seen.values()].filter((s) => s.bootId === boot);
    expect(ofBoot.length).toBe(lines.length);
    for (const l of lines) expect(seen.get(key(l))?.ts).toBe(l.ts);

    // kill -9: what gathered since the last flush is lost from the journal, never torn into a half line.
    agent = startAgent(configPath, journal);
    await until(() => readJournal(journal).some((l) => l.bootId !== boot), 'the next boot journaled', 20_000);
    await new Promise((r) => setTimeout(r, 700));
    await stopWith(agent, 'SIGKILL');
    const text = readFileSync(journal, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const second = readJournal(journal).filter((l) => l.bootId !== boot);
    const secondSeen = [...seen.values()].filter((s) => s.bootId === second[0]!.bootId);
    // The journal may trail the broker (its tail), never lead it.
    await until(() => second.every((l) => seen.has(key(l))), 'the watcher has every journaled status of the second boot');
    expect(second.length).toBeLessThanOrEqual(secondSeen.length);
  }, 120_000);
});
