import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { connectAsync } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { encodeMessage, topics } from '@aerie/contracts';
import { influxQuery } from '../../test-support/influxdb.js';
import { freePort } from '../../test-support/servers.js';
import { until } from '../../test-support/until.js';
import { makeStatus } from './helpers/status.js';
import { useTelemetryEngines } from './helpers/engines.js';

// Issue 8: aerie-telemetry's probes and graceful SIGTERM, as a real child process (node
// dist/main.js) against Debian's Mosquitto and InfluxDB 1.6.7. mqtt.js acknowledges a QoS 1
// status once the 'message' handlers ran (before it is written): what was taken must be written
// or spilled before exit, and what was not taken stays with the broker's persistent session.

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const DRONES = ['shut-1', 'shut-2', 'shut-3'];
const e = useTelemetryEngines('aerie-tel-shutdown-');

function startTelemetryChild(port: number) {
  const child = spawn(process.execPath, [MAIN, '--data-dir', e.dir, '--http-port', String(port), '--influx-url', e.influx.url, '--mqtt-url', e.broker.url], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, AERIE_TELEMETRY_MQTT_USERNAME: 'telemetry', AERIE_TELEMETRY_MQTT_PASSWORD: 'tel-pw', AERIE_TELEMETRY_CLIENT_ID: 'telemetry-shutdown' },
  });
  e.children.push(child);
  const lines: string[] = [];
  createInterface({ input: child.stdout }).on('line', (l) => lines.push(l));
  createInterface({ input: child.stderr }).on('line', (l) => lines.push(l));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, lines, exited, base: `http://127.0.0.1:${port}` };
}

type Ready = { status: string; checks: Record<string, string> };
async function waitReadyz(base: string, code: number, what: string): Promise<Ready> {
  let last: unknown;
  for (const end = Date.now() + 20_000; ;) {
    try {
      const res = await fetch(`${base}/readyz`);
      last = { code: res.status, body: await res.json() as Ready };
      if (res.status === code) return (last as { body: Ready }).body;
    } catch (err) {
      last = String(err);
    }
    if (Date.now() > end) throw new Error(`timed out waiting for /readyz ${code} (${what}); last ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('aerie-telemetry health and graceful shutdown (child process)', () => {
  it('livez/readyz (503 while InfluxDB is stopped); statuses published before and during SIGTERM are each in InfluxDB exactly once after the restart; exit 0', async () => {
    const port = await freePort();
    const first = startTelemetryChild(port);
    expect(await waitReadyz(first.base, 200, 'start')).toEqual({ status: 'ready', checks: { mqtt: 'ok', timeseries: 'ok' } });
    expect(await (await fetch(`${first.base}/livez`)).json()).toEqual({ status: 'alive' });
    expect(await (await fetch(`${first.base}/healthz`)).json()).toMatchObject({ status: 'ok', timeseries: { store: 'influxql' } });

    // InfluxDB goes away: not ready, still alive; back: ready.
    await e.influx.stop();
    const down = await waitReadyz(first.base, 503, 'InfluxDB stopped');
    expect(down.checks.timeseries).toMatch(/^InfluxDB unreachable/);
    expect(down.checks.mqtt).toBe('ok');
    expect((await fetch(`${first.base}/livez`)).status).toBe(200);
    await e.influx.start();
    await waitReadyz(first.base, 200, 'InfluxDB back');

    // Three drones publish at QoS 1, paced (each status its own seq and timestamp).
    const pub = await connectAsync(e.broker.url, { username: 'fleet', password: 'fleet-pw', clientId: 'fleet-shutdown', protocolVersion: 4 });
    const t0 = Date.now() - 60_000;
    const published = new Map<string, number[]>(DRONES.map((d) => [d, []]));
    let publishing = true;
    const loops = DRONES.map(async (droneId) => {
      for (let seq = 1; publishing; seq++) {
        await pub.publishAsync(topics.status(droneId), encodeMessage(makeStatus({ droneId, bootId: 'boot-shutdown', seq, ts: t0 + seq * 10 })), { qos: 1 });
        published.get(droneId)!.push(seq);
        // Paced (≤ 1 per ms per drone): unpaced, three publishers outran the service on a loaded
        // box and the backlog it had to drain after the restart outgrew the 20 s wait below.
        await new Promise((r) => setTimeout(r, 1));
      }
    });
    const count = () => [...published.values()].reduce((n, s) => n + s.length, 0);
    // Enough taken that the writer holds some in memory when the signal comes (batches of 1 s).
    await until(() => count() >= 300, '300 statuses published');
    first.child.kill('SIGTERM');
    const atSignal = count();
    // Published while it shuts down and while it is gone: the broker keeps them for its session.
    await until(() => count() >= atSignal + 150, '150 statuses published during the shutdown');
    expect(await first.exited).toBe(0);
    expect(first.lines.some((l) => /telemetry closed/.test(l))).toBe(true);
    const whileDown = count();
    await until(() => count() >= whileDown + 60, '60 statuses published while it is down');

    const second = startTelemetryChild(port);
    await waitReadyz(second.base, 200, 'restart');
    publishing = false;
    await Promise.all(loops);
    await pub.endAsync();

    const total = count();
    const stored = async () => {
      const series = await influxQuery(e.influx.url, 'aerie', `SELECT "seq" FROM "drone_status" WHERE "boot_id" = 'boot-shutdown' GROUP BY "drone_id"`);
      return new Map(series.map((s) => [s.tags?.drone_id ?? '', s.values.map((v) => Number(v[1]))]));
    };
    let got: Map<string, number[]>;
    for (const end = Date.now() + 20_000; ;) {
      got = await stored();
      if ([...got.values()].reduce((n, s) => n + s.length, 0) >= total) break;
      if (Date.now() > end) break; // the comparison below says what is missing
      await new Promise((r) => setTimeout(r, 100));
    }
    for (const d of DRONES) {
      // Exactly once: every published seq, none twice, nothing else.
      expect([...(got.get(d) ?? [])].sort((a, b) => a - b)).toEqual(published.get(d));
    }
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 60_000);
});
