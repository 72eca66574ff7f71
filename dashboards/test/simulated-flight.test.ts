import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTelemetry, defineConfig, createMemoryLogger, type TelemetryApp } from '@aerie/telemetry';
import { startStack, type RunningStack } from '../../demo/src/stack.js';
import { influxQuery, startInfluxDB, type RunningInfluxDB } from '../../test-support/influxdb.js';
import { startMosquitto, type MosquittoUser, type RunningMosquitto } from '../../test-support/mosquitto.js';
import { until } from '../../test-support/until.js';

const DIR = fileURLToPath(new URL('../grafana/dashboards/', import.meta.url));
interface Dashboard { panels: { title: string; type: string; targets: { query: string }[] }[]; templating: { list: { name: string; query: string }[] } }

// Panels a single nominal delivery cannot feed: nothing is still under way once it completed,
// and a healthy flight raises no critical alert. The synthetic fleet in dashboards.test.ts covers them.
const NEEDS_MORE_THAN_ONE_NOMINAL_FLIGHT = new Set(['Active deliveries', 'Critical alerts', 'Drones by state']);

const secret = (): string => randomBytes(12).toString('hex');
const users: MosquittoUser[] = [
  ...['svc-hub', 'svc-core', 'svc-telemetry'].map((username) => ({ username, password: secret(), role: 'service' as const })),
  ...['drone-001', 'drone-002', 'drone-003'].map((username) => ({ username, password: secret(), role: 'drone' as const })),
];
const creds = (name: string): { username: string; password: string } => {
  const u = users.find((x) => x.username === name)!;
  return { username: u.username, password: u.password };
};

/**
 * A real simulated flight: simulator → MAVLink → edge agent → Mosquitto → telemetry (a second
 * instance, configured with InfluxDB) → InfluxDB 1.6.7; then the dashboards' queries over it.
 */
describe('dashboards over a delivery flown by the simulator', () => {
  let mosquitto: RunningMosquitto;
  let influx: RunningInfluxDB;
  let stack: RunningStack;
  let telemetry: TelemetryApp;
  let fromMs: number;
  beforeAll(async () => {
    mosquitto = await startMosquitto(users);
    influx = await startInfluxDB();
    await influxQuery(influx.url, '', 'CREATE DATABASE aerie');
    stack = await startStack({
      drones: 3, speedup: 10, home: { lat: 47.3977, lon: 8.5456, altMsl: 488 }, dataDir: null,
      broker: { kind: 'external', url: mosquitto.url, hub: creds('svc-hub'), core: creds('svc-core'), telemetry: creds('svc-telemetry'), drone: creds },
    });
    fromMs = stack.clock.now() - 60_000;
    telemetry = await startTelemetry(defineConfig({
      mqttUrl: mosquitto.url, mqttUsername: 'svc-telemetry', mqttPassword: creds('svc-telemetry').password, clientId: 'svc-telemetry-influx',
      dbPath: ':memory:', httpPort: 0, fleet: 'sim', influx: { url: influx.url, database: 'aerie' },
    }), { clock: stack.clock, logger: createMemoryLogger() });
    await telemetry.ingest.whenSubscribed();
  }, 60_000);
  afterAll(async () => {
    await telemetry?.close();
    await stack?.stop();
    await influx?.destroy();
    await mosquitto?.stop();
  });

  it('flies one delivery, and every panel that flight can feed answers with rows', async () => {
    await until(() => stack.droneIds.every((id) => stack.hub.fleet.get(id)?.status?.position), 'statuses from every drone', 20_000);
    const res = await fetch(`${stack.core.url}/api/v1/deliveries/sim-1`, {
      method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pickup: { lat: 47.3991, lon: 8.5468 }, dropoff: { lat: 47.4012, lon: 8.5449 } }),
    });
    expect(res.status).toBe(202);
    let stage = '';
    let flownBy = '';
    // About two virtual minutes of flight (≈12 s at 10×); bounded at 90 s of real time.
    for (let i = 0; i < 900 && stage !== 'Completed' && stage !== 'Failed'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      ({ stage, droneId: flownBy } = (await (await fetch(`${stack.core.url}/api/v1/deliveries/sim-1`)).json()) as { stage: string; droneId: string });
    }
    expect(stage).toBe('Completed');
    await new Promise((r) => setTimeout(r, 500));
    expect(await telemetry.writer.flush(20_000)).toBe(true);
    expect(telemetry.writer.stats()).toMatchObject({ rejected: 0, dropped: 0, pending: 0 });
    expect(telemetry.ingest.stats().events?.accepted).toBeGreaterThan(0);

    const toMs = stack.clock.now() + 60_000;
    const sub = (q: string, vars: Record<string, string>): string =>
      q.replace(/\$timeFilter/g, `time >= ${fromMs}ms and time <= ${toMs}ms`).replace(/\$__interval/g, '10s')
        .replace(/\$(\w+)/g, (m, n: string) => (n.startsWith('tag_') ? m : (vars[n] ?? m)));
    const answered: string[] = [];
    for (const f of readdirSync(DIR).filter((x) => x.endsWith('.json'))) {
      const d = JSON.parse(readFileSync(`${DIR}${f}`, 'utf8')) as Dashboard;
      const vars: Record<string, string> = { fleet: 'sim' };
      for (const v of d.templating.list.filter((x) => x.name !== 'fleet')) {
        const values = (await influxQuery(influx.url, 'aerie', sub(v.query, vars)))[0]?.values.map((r) => r[1]) ?? [];
        // The drone a fleet manager would pick: the one that flew the delivery.
        expect(values).toContain(flownBy);
        vars[v.name] = flownBy;
      }
      for (const p of d.panels) {
        if (NEEDS_MORE_THAN_ONE_NOMINAL_FLIGHT.has(p.title)) continue;
        const rows = (await Promise.all(p.targets.map((t) => influxQuery(influx.url, 'aerie', sub(t.query, vars)))))
          .flat().reduce((n, s) => n + s.values.length, 0);
        expect(rows, `${f} › ${p.title}`).toBeGreaterThan(0);
        answered.push(`${f} › ${p.title}`);
      }
    }
    expect(answered.length).toBeGreaterThanOrEqual(15);
  }, 150_000);
});
