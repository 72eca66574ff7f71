import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { startFleet, type Fleet } from '@aerie/simulator';
import { startMosquitto, type RunningMosquitto } from '../../test-support/mosquitto.js';
import { until } from '../../test-support/until.js';
import { openLog } from '../src/child.js';
import { freePort, freeUdpBlock } from '../src/ports.js';
import { agentPoolUnit, cleanEnv, type ServiceContext } from '../src/services.js';
import { Supervisor } from '../src/supervisor.js';

// agent-pool.ts, the launcher's --agents-per-process mode: several real edge agents in one
// process, each with its own FC socket (simulated flight controllers), MQTT session on Debian's
// Mosquitto under its drone id, spool and publish journal; health on its own port; restarted
// by the supervisor after kill -9.
const dir = mkdtempSync(join(tmpdir(), 'aerie-agent-pool-'));
const drones = ['drone-001', 'drone-002'];
let broker: RunningMosquitto | undefined;
let fleet: Fleet | undefined;
let sup: Supervisor | undefined;

afterAll(async () => {
  await sup?.stop();
  await fleet?.stop();
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('agent pool (agents per process > 1)', () => {
  it('runs each agent on its own session and spool, reports ready once all are up, and comes back after kill -9', async () => {
    broker = await startMosquitto([
      { username: 'svc-test', password: 'svc-pw', role: 'service' },
      ...drones.map((d) => ({ username: d, password: `pw-${d}`, role: 'drone' as const })),
    ]);
    const base = await freeUdpBlock(drones.length);
    fleet = await startFleet({ drones: drones.length, peerFor: (n) => ({ address: '127.0.0.1', port: base + n - 1 }) });
    const ctx: ServiceContext = {
      dir, mqttUrl: broker.url, baseEnv: cleanEnv(process.env),
      sinks: (name) => ({ file: openLog(join(dir, `${name}.log`)), line: () => undefined }),
    };
    const journal = join(dir, 'journal');
    const healthPort = await freePort();
    const unit = agentPoolUnit(ctx, 1, drones.map((droneId, i) => ({ droneId, password: `pw-${droneId}`, fcPort: base + i })), healthPort, journal);
    const lines: string[] = [];
    sup = new Supervisor({ restart: true, stateFile: join(dir, 'state.json'), state: () => ({}), log: (l) => lines.push(l) });

    const seen = new Set<string>();
    const svc = await mqtt.connectAsync(broker.url, { username: 'svc-test', password: 'svc-pw', reconnectPeriod: 0 });
    svc.on('message', (topic) => seen.add(topic.split('/')[2]!));
    await svc.subscribeAsync('fleet/v1/+/status', { qos: 1 });

    await sup.startTier([unit], 30_000);
    const ready = await fetch(`http://127.0.0.1:${healthPort}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { starting: 0, notConnected: [] } });
    await until(() => seen.size === drones.length, 'a status from every pooled agent');
    for (const d of drones) {
      await until(() => existsSync(join(journal, `${d}.jsonl`)), `${d}'s publish journal`);
      expect(existsSync(join(dir, 'agents', d, 'spool'))).toBe(true);
    }

    const before = sup.processes()[0]!;
    await sup.kill('agents-1');
    await sup.waitReady('agents-1', 30_000);
    const after = sup.processes()[0]!;
    expect(after).toMatchObject({ name: 'agents-1', restarts: 1, ready: true });
    expect(after.pid).not.toBe(before.pid);
    seen.clear();
    await until(() => seen.size === drones.length, 'statuses from every agent after the restart');
    await svc.endAsync();
  }, 60_000);
});
