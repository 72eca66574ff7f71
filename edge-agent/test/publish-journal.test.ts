import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { agentConfig } from '../src/index.js';
import { envName, layeredInput } from '../src/config-file.js';
import { makeTlsMaterial, startTlsMosquitto, type RunningTlsMosquitto } from '../../test-support/mosquitto-tls.js';
import { freePort } from '../../test-support/servers.js';
import { until } from '../../test-support/until.js';
import { startFakeFc } from './fake-fc.js';

/*
 * The publish journal (issue 8, bench:faults): one line per DroneStatus the broker acknowledged,
 * live or replayed from the spool. The real agent process, a scripted FC over UDP and Debian's
 * Mosquitto (with persistence, so the watcher's session and what was queued for it survive the
 * broker's restart and the watcher sees every status the broker took).
 */

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const cleanups: (() => Promise<unknown> | void)[] = [];
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

function startAgent(configPath: string, journal: string): ChildProcess {
  // The journal comes from the environment here, the rest from the file: both ways are supported.
  const child = spawn(process.execPath, [main, '--config', configPath], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, AERIE_AGENT_PUBLISH_JOURNAL: journal } });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (process.env.AERIE_DEBUG) console.error(stderr);
  });
  return child;
}

const exited = (child: ChildProcess, signal: NodeJS.Signals): Promise<void> => new Promise((resolve) => {
  child.once('exit', () => resolve());
  child.kill(signal);
});

describe('the publish journal', () => {
  it('is off by default and set by the config key or AERIE_AGENT_PUBLISH_JOURNAL', () => {
    expect(agentConfig({ droneId: 'd' }).publishJournal).toBeNull();
    expect(envName('publishJournal')).toBe('AERIE_AGENT_PUBLISH_JOURNAL');
    expect(agentConfig(layeredInput({ droneId: 'd' }, { AERIE_AGENT_PUBLISH_JOURNAL: '/tmp/j.jsonl' }, {})).publishJournal).toBe('/tmp/j.jsonl');
    expect(agentConfig(layeredInput({ droneId: 'd', publishJournal: '/var/lib/aerie/journal.jsonl' }, {}, {})).publishJournal).toBe('/var/lib/aerie/journal.jsonl');
    expect(() => agentConfig({ droneId: 'd', publishJournal: '' })).toThrow(/publishJournal: must be a non-empty string/);
  });

  it('lists every status the broker acknowledged, live and replayed from the spool after an outage, exactly once; kill -9 loses only its tail', async () => {
    const tls = makeTlsMaterial('drone-j');
    const dir = mkdtempSync(join(tmpdir(), 'aerie-journal-'));
    cleanups.push(() => rmSync(tls.dir, { recursive: true, force: true }));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const users = [{ username: 'drone-j', password: 'j-pw' }, { username: 'svc', password: 'svc-pw' }];
    const persistenceDir = join(dir, 'mosq');
    let broker: RunningTlsMosquitto = await startTlsMosquitto(tls, { requireCertificate: false, users, persistenceDir });
    cleanups.push(() => broker.stop());

    const fcPort = await freePort();
    const fc = await startFakeFc({ agentPort: fcPort });
    cleanups.push(() => fc.stop());
    const beat = setInterval(() => fc.heartbeat(), 200);
    cleanups.push(() => clearInterval(beat));

    const journal = join(dir, 'journal', 'publish.jsonl');
    const statusFile = join(dir, 'status.json');
    const configPath = join(dir, 'agent.json');
    writeFileSync(configPath, JSON.stringify({
      droneId: 'drone-j',
      fc: { link: 'udp', host: '127.0.0.1', port: fcPort, streamHz: 0 },
      mqtt: { url: broker.url, ca: tls.ca, username: 'drone-j', password: 'j-pw' },
      publishHz: 10, publishHzInFlight: 10,
      spool: { dir: join(dir, 'spool'), maxMb: 16, statusMaxAgeS: 3600, eventMaxAgeS: 86400 },
      statusFile,
    }));
    const seen = new Map<string, Id>();
    await watcher(broker.url, tls.ca, seen);

    let agent = startAgent(configPath, journal);
    await until(() => readJournal(journal).length >= 5, 'journal lines from live statuses (flushed within a second)', 20_000);

    // Outage: the agent spools; nothing it spools is journaled until the broker has it.
    await broker.stop();
    const spooled = (): number => {
      try {
        return (JSON.parse(readFileSync(statusFile, 'utf8')) as { spool: { length: number } | null }).spool?.length ?? 0;
      } catch {
        return 0;
      }
    };
    await until(() => spooled() >= 10, 'ten statuses spooled during the outage', 20_000);
    const duringOutage = readJournal(journal).length;
    await new Promise((r) => setTimeout(r, 1_500));
    // A flush or two later, still nothing new: a status only goes in once acknowledged (one may have been in flight).
    expect(readJournal(journal).length - duringOutage).toBeLessThanOrEqual(1);

    broker = await startTlsMosquitto(tls, { requireCertificate: false, users, persistenceDir, port: broker.port });
    await until(() => spooled() === 0, 'the spool drained', 30_000);
    await until(() => readJournal(journal).length >= duringOutage + 20, 'replayed and live statuses journaled', 20_000);

    // SIGTERM: a clean stop writes the journal's last lines.
    await exited(agent, 'SIGTERM');
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
    await exited(agent, 'SIGKILL');
    const text = readFileSync(journal, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const second = readJournal(journal).filter((l) => l.bootId !== boot);
    const secondSeen = [...seen.values()].filter((s) => s.bootId === second[0]!.bootId);
    // The journal may trail the broker (its tail), never lead it.
    await until(() => second.every((l) => seen.has(key(l))), 'the watcher has every journaled status of the second boot');
    expect(second.length).toBeLessThanOrEqual(secondSeen.length);
  }, 120_000);
});
