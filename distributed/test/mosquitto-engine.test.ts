import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { openLog } from '../src/child.js';
import { prepareMosquitto } from '../src/engines/mosquitto.js';
import { freePort } from '../src/ports.js';
import { Supervisor } from '../src/supervisor.js';

// The launcher's Mosquitto (Debian's, with the generated passwords, ACL and persistence): a
// persistent subscriber's queued QoS 1 messages survive a kill -9 of the broker once saved, and
// the ACL keeps a drone to its own topics.
const dir = mkdtempSync(join(tmpdir(), 'aerie-mosquitto-engine-'));
// Under root Mosquitto drops to its own user, which must reach its directory (the launcher does the same).
chmodSync(dir, 0o755);
let sup: Supervisor | undefined;

afterAll(async () => {
  await sup?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the launcher\'s Mosquitto', () => {
  it('keeps an offline subscriber\'s QoS 1 queue across kill -9 and restart on the same port and data', async () => {
    const engine = prepareMosquitto({
      dir: join(dir, 'mosquitto'), port: await freePort(),
      users: [{ username: 'svc-telemetry', password: 'svc-pw', role: 'service' }, { username: 'drone-001', password: 'd1-pw', role: 'drone' }],
    });
    sup = new Supervisor({ restart: true, stateFile: join(dir, 'state.json'), state: () => ({}), log: () => undefined });
    await sup.startTier([{ name: 'mosquitto', tier: 0, start: () => engine.start({ file: openLog(join(dir, 'mosquitto.log')), line: () => undefined }), probe: () => engine.probe() }], 20_000);

    const subOpts = { clientId: 'telemetry-like', username: 'svc-telemetry', password: 'svc-pw', clean: false, reconnectPeriod: 0 } as const;
    const sub = await mqtt.connectAsync(engine.url, subOpts);
    await sub.subscribeAsync('fleet/v1/+/status', { qos: 1 });
    await sub.endAsync();

    const drone = await mqtt.connectAsync(engine.url, { clientId: 'drone-001', username: 'drone-001', password: 'd1-pw', reconnectPeriod: 0 });
    const n = 300;
    for (let seq = 1; seq <= n; seq++) await drone.publishAsync('fleet/v1/drone-001/status', JSON.stringify({ seq }), { qos: 1 });
    // The ACL: another drone's topic is not this drone's to write (Mosquitto drops it silently on 3.1.1).
    await drone.publishAsync('fleet/v1/drone-002/status', JSON.stringify({ seq: -1 }), { qos: 1 });
    await drone.endAsync();
    // Saved after every change: wait for a save later than the last PUBACK (a bound, not a timing assertion).
    const acked = Date.now();
    const db = join(dir, 'mosquitto', 'mosquitto.db');
    for (const end = Date.now() + 10_000; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) {
      try {
        if (statSync(db).mtimeMs > acked) break;
      } catch { /* not written yet */ }
    }

    await sup.kill('mosquitto');
    await sup.waitReady('mosquitto', 20_000);
    expect(sup.processes()[0]).toMatchObject({ restarts: 1, ready: true });

    const got = new Set<number>();
    const back = mqtt.connect(engine.url, subOpts);
    back.on('message', (_t, payload) => got.add((JSON.parse(payload.toString()) as { seq: number }).seq));
    for (const end = Date.now() + 20_000; got.size < n && Date.now() < end;) await new Promise((r) => setTimeout(r, 50));
    await back.endAsync();
    expect(got.size).toBe(n);
    expect(got.has(-1)).toBe(false);
  }, 60_000);
});
