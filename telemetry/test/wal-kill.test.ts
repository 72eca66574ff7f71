import { spawn } from 'node:child_process';
import { appendFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { connectAsync } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { encodeMessage, topics } from '@aerie/contracts';
import { influxQuery } from '../../test-support/influxdb.js';
import { freePort } from '../../test-support/servers.js';
import { makeStatus } from './helpers/status.js';
import { useTelemetryEngines } from './helpers/engines.js';

// Issue 8: telemetry acknowledges a QoS 1 status only once it is in the write-ahead log, so a
// kill -9 while the writer holds unwritten points loses none of them. With acknowledgement on
// receipt (no log) this test fails: the points held in memory die with the process and the
// broker, having had its PUBACKs, does not send them again.

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const DRONES = ['wal-1', 'wal-2', 'wal-3', 'wal-4'];
const PER_DRONE = 150;
const e = useTelemetryEngines('aerie-tel-wal-kill-');

function startTelemetryChild(port: number, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [MAIN, '--data-dir', e.dir, '--http-port', String(port), '--influx-url', e.influx.url, '--mqtt-url', e.broker.url], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, AERIE_TELEMETRY_MQTT_USERNAME: 'telemetry', AERIE_TELEMETRY_MQTT_PASSWORD: 'tel-pw', AERIE_TELEMETRY_CLIENT_ID: 'telemetry-wal-kill', ...env },
  });
  e.children.push(child);
  const lines: string[] = [];
  createInterface({ input: child.stdout }).on('line', (l) => lines.push(l));
  createInterface({ input: child.stderr }).on('line', (l) => lines.push(l));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
  return { child, lines, exited, base: `http://127.0.0.1:${port}` };
}

async function json<T>(url: string): Promise<T | null> {
  try {
    const res = await fetch(url);
    return res.status === 200 ? await res.json() as T : null;
  } catch {
    return null;
  }
}
/** until() with an async probe (until's probe is synchronous). */
async function poll(probe: () => Promise<boolean>, what: string): Promise<void> {
  for (const end = Date.now() + 20_000; !(await probe());) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
type Health = { ingest: { received: number; wal?: { replayed: number; corrupt: number; appended: number } }; timeseries: { pending: number; written: number } };

describe('telemetry write-ahead log: kill -9 (child process, Mosquitto, InfluxDB)', () => {
  it('every status taken before a kill -9 is in InfluxDB exactly once after the restart, a record cut at the tail included', async () => {
    const port = await freePort();
    // The writer holds every point for a minute: at the kill, all of them are unwritten.
    const first = startTelemetryChild(port, { AERIE_TELEMETRY_WRITE_FLUSH_MS: '60000' });
    await poll(async () => (await json(`${first.base}/readyz`)) !== null, 'telemetry ready');

    const pub = await connectAsync(e.broker.url, { username: 'fleet', password: 'fleet-pw', clientId: 'fleet-wal-kill', protocolVersion: 4 });
    const t0 = Date.now() - 60_000;
    await Promise.all(DRONES.map(async (droneId) => {
      for (let seq = 1; seq <= PER_DRONE; seq++) {
        await pub.publishAsync(topics.status(droneId), encodeMessage(makeStatus({ droneId, bootId: 'boot-wal', seq, ts: t0 + seq * 10 })), { qos: 1 });
      }
    }));
    const total = DRONES.length * PER_DRONE;
    // Taken (and so acknowledged to the broker), none written yet.
    await poll(async () => (await json<Health>(`${first.base}/healthz`))?.ingest.received === total, `${total} statuses taken`);
    const before = (await json<Health>(`${first.base}/healthz`))!;
    expect(before.timeseries).toMatchObject({ written: 0, pending: total });
    expect(before.ingest.wal?.appended).toBe(total);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');

    // A kill -9 can cut a record in half: the newest segment gets half a record at its end.
    const wal = join(e.dir, 'telemetry-wal');
    const newest = readdirSync(wal).filter((f) => f.endsWith('.wal')).sort().at(-1)!;
    appendFileSync(join(wal, newest), Buffer.from([200, 0, 0, 0, 1, 2, 3, 4, 5]));

    const second = startTelemetryChild(port);
    await poll(async () => (await json(`${second.base}/readyz`)) !== null, 'telemetry ready again');
    const after = (await json<Health>(`${second.base}/healthz`))!;
    expect(after.ingest.wal).toMatchObject({ replayed: total, corrupt: 1 });
    expect(second.lines.some((l) => l.includes('code=TEL_ERR_WAL_CORRUPT'))).toBe(true);

    const stored = async () => {
      const series = await influxQuery(e.influx.url, 'aerie', `SELECT "seq" FROM "drone_status" WHERE "boot_id" = 'boot-wal' GROUP BY "drone_id"`);
      return new Map(series.map((s) => [s.tags?.drone_id ?? '', s.values.map((v) => Number(v[1]))]));
    };
    let got = new Map<string, number[]>();
    for (const end = Date.now() + 20_000; Date.now() < end;) {
      got = await stored();
      if ([...got.values()].reduce((n, s) => n + s.length, 0) >= total) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const expected = Array.from({ length: PER_DRONE }, (_, i) => i + 1);
    // Exactly once: every published seq, none twice, nothing else.
    for (const d of DRONES) expect([...(got.get(d) ?? [])].sort((a, b) => a - b)).toEqual(expected);

    // Written, so the log lets go of its segments (all of them by the graceful stop).
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(readdirSync(wal).filter((f) => f.endsWith('.wal'))).toEqual([]);
    await pub.endAsync();
  }, 60_000);
});
