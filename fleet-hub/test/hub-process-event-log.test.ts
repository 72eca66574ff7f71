import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { FileEventLog } from '../src/index.js';
import { decodeMessage, encodeMessage, subscriptions, topics, type DeliveryAssignment, type DeliveryTracking } from '@aerie/contracts';
import { droneStatus } from '../../test-support/fixtures.js';
import { until } from '../../test-support/until.js';

// Issue 5: the real aerie-hub process appends every tracking event to the embedded durable log in
// DATA_DIR/events, the same events (eventId, correlationId) its MQTT consumers get; after kill -9
// the log holds them and a consumer resumes after its committed offset.
const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const procs: ChildProcess[] = [];
const clients: MqttClient[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.endAsync(true);
  for (const p of procs.splice(0)) {
    if (p.exitCode === null && p.signalCode === null) {
      const exited = new Promise((resolve) => p.once('exit', resolve));
      p.kill('SIGTERM');
      await exited;
    }
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const cli = (dir: string, ...args: string[]) => execFileSync(process.execPath, [main, ...args, '--data-dir', dir], { encoding: 'utf8' });
const secretOf = (out: string) => /secret \(shown once\): (\S+)/.exec(out)![1]!;

describe('aerie-hub process and its embedded event log', () => {
  it('appends the tracking events its MQTT consumers get to DATA_DIR/events, kept across kill -9, read from a committed offset', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aerie-hub-events-'));
    dirs.push(dir);
    const droneSecret = secretOf(cli(dir, 'device', 'add', 'drone-001'));
    const coreSecret = secretOf(cli(dir, 'device', 'add', 'svc-core', '--role', 'service'));
    const proc = spawn(process.execPath, [main, '--mqtt-port', '0', '--data-dir', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    procs.push(proc);
    let out = '';
    proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    const mqttUrl = await until(() => /"mqttUrl":"([^"]+)"/.exec(out)?.[1], 'the hub process to start');

    const connect = async (id: string, password: string) => {
      const c = await mqtt.connectAsync(mqttUrl, { clientId: id, username: id, password, protocolVersion: 4, reconnectPeriod: 0 });
      clients.push(c);
      return c;
    };
    const core = await connect('svc-core', coreSecret);
    const live: DeliveryTracking[] = [];
    core.on('message', (_t, p) => {
      const d = decodeMessage('DeliveryTracking', p);
      if (d.ok) live.push(d.value);
    });
    await core.subscribeAsync([subscriptions.allTracking, subscriptions.allAlerts], { qos: 1 });
    const drone = await connect('drone-001', droneSecret);
    const commands: string[] = [];
    drone.on('message', (t) => commands.push(t));
    await drone.subscribeAsync(topics.command('drone-001'), { qos: 1 });
    const pickup = { lat: 47.399, lon: 8.547 };
    const a: DeliveryAssignment = {
      v: 1, deliveryId: 'dlv-e', droneId: 'drone-001', ts: 1, correlationId: 'corr-e', action: 'fly', pickup, dropoff: { lat: 47.401, lon: 8.55 }, cruiseAltM: 30, groundDelayS: 5,
    };
    await core.publishAsync(topics.assignment('dlv-e'), encodeMessage(a), { qos: 1, retain: true });
    await until(() => commands.length > 0, 'the mission command');
    const at = (seq: number, p: { lat: number; lon: number }, landedState: 'TAKEOFF' | 'ON_GROUND') =>
      encodeMessage(droneStatus({ seq, ts: 1_700_000_000_000 + seq * 1000, armed: true, landedState, position: { ...p, altMsl: 488, altRel: landedState === 'ON_GROUND' ? 0 : 10 } }));
    await drone.publishAsync(topics.status('drone-001'), at(1, { lat: 47.3977, lon: 8.5456 }, 'TAKEOFF'), { qos: 1 });
    await drone.publishAsync(topics.status('drone-001'), at(2, pickup, 'ON_GROUND'), { qos: 1 });
    await until(() => live.some((e) => e.type === 'PackagePickedUp'), 'PackagePickedUp on MQTT');

    // The append is fsynced on its own schedule: wait until the file holds what MQTT carried.
    const logFile = join(dir, 'events', 'events.log');
    const ids = live.map((e) => e.eventId);
    await until(() => ids.every((id) => readFileSync(logFile, 'utf8').includes(id)), 'the events in DATA_DIR/events');
    const killed = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGKILL');
    await killed;

    const log = await FileEventLog.open(join(dir, 'events'));
    try {
      const stored = await log.read('core', 100);
      expect(stored.map((s) => s.event)).toEqual(live);
      expect(stored.every((s) => s.event.correlationId === 'corr-e')).toBe(true);
      await log.commit('core', stored[0]!.offset);
    } finally {
      await log.close();
    }
    const again = await FileEventLog.open(join(dir, 'events'));
    try {
      expect((await again.read('core', 100)).map((s) => s.event.eventId)).toEqual(ids.slice(1));
    } finally {
      await again.close();
    }
  }, 60_000);
});
