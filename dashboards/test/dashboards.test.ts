import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInfluxV1Writer } from '../../telemetry/src/adapters/influx-v1-writer.js';
import { DRONE_STATES } from '../../telemetry/src/domain/measurements.js';
import { influxQuery, startInfluxDB, type InfluxSeries, type RunningInfluxDB } from '../../test-support/influxdb.js';
import { grafanaDashboardValidator } from '../../telemetry/test/helpers/grafana-schema.js';
import { simulatedAfternoon } from '../../telemetry/test/helpers/flight.js';

const DIR = fileURLToPath(new URL('../grafana/dashboards/', import.meta.url));
const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

interface Target { refId: string; query: string; rawQuery: boolean; resultFormat: string }
interface Panel { id: number; type: string; title: string; targets: Target[]; datasource: { uid: string } }
interface Variable { name: string; query: string; allValue?: string; includeAll?: boolean }
interface Dashboard { uid: string; title: string; panels: Panel[]; templating: { list: Variable[] } }
const load = (f: string): Dashboard => JSON.parse(readFileSync(`${DIR}${f}`, 'utf8')) as Dashboard;

describe('dashboards validate against @grafana/schema', () => {
  let validate: ReturnType<typeof grafanaDashboardValidator>;
  beforeAll(() => {
    validate = grafanaDashboardValidator();
  }, 60_000);

  it('has the four dashboards the issue names', () => {
    expect(files).toEqual(['alerts.json', 'deliveries.json', 'drone-detail.json', 'fleet-overview.json']);
  });

  it.each(files)('%s is a valid Dashboard', (f) => {
    const ok = validate(load(f));
    expect(validate.errors ?? [], JSON.stringify(validate.errors?.slice(0, 3))).toEqual([]);
    expect(ok).toBe(true);
  });

  it('refuses a dashboard with a misspelt key (the schema is strict enough to catch typos)', () => {
    const d = load('fleet-overview.json') as unknown as Record<string, unknown>;
    expect(validate({ ...d, refrsh: '5s' })).toBe(false);
    expect(validate({ ...d, panels: [{ ...(d.panels as object[])[0], gridPos: { x: 0, y: 0, w: 'wide', h: 4 } }] })).toBe(false);
  });

  it.each(files)('%s: unique panel ids, the provisioned data source, InfluxQL raw queries only', (f) => {
    const d = load(f);
    expect(new Set(d.panels.map((p) => p.id)).size).toBe(d.panels.length);
    for (const p of d.panels) {
      expect(p.datasource.uid).toBe('aerie-influxdb');
      for (const t of p.targets) expect(t).toMatchObject({ rawQuery: true });
    }
  });
});

describe('every panel query answers against InfluxDB 1.6.7 loaded with a simulated flight', () => {
  let influx: RunningInfluxDB;
  const endMs = Math.floor(Date.now() / 1000) * 1000;
  const fromMs = endMs - 3600_000;
  beforeAll(async () => {
    influx = await startInfluxDB();
    await influxQuery(influx.url, '', 'CREATE DATABASE aerie');
    const writer = createInfluxV1Writer({ url: influx.url, database: 'aerie' });
    const points = simulatedAfternoon(endMs);
    for (let i = 0; i < points.length; i += 5000) expect(await writer.write(points.slice(i, i + 5000))).toEqual({ ok: true });
  });
  afterAll(async () => {
    await influx?.destroy();
  });

  /** What Grafana's InfluxQL data source does to a query before sending it. */
  const substitute = (q: string, vars: Record<string, string>): string =>
    q.replace(/\$timeFilter/g, `time >= ${fromMs}ms and time <= ${endMs}ms`)
      .replace(/\$__interval/g, '1m')
      .replace(/\$(\w+)/g, (m, name: string) => (name.startsWith('tag_') ? m : (vars[name] ?? m)));

  const values = (series: InfluxSeries[], column: string): unknown[] =>
    series.flatMap((s) => {
      const i = s.columns.indexOf(column);
      return i < 0 ? [] : s.values.map((r) => r[i]);
    });
  const numbers = (series: InfluxSeries[]): number[] =>
    series.flatMap((s) => s.values.flatMap((r) => r.slice(1).filter((v): v is number => typeof v === 'number')));

  /** The rows each panel type needs to draw something. */
  function expectShape(panel: Panel, series: InfluxSeries[]): void {
    expect(series.length, `${panel.title}: no series`).toBeGreaterThan(0);
    for (const s of series) expect(s.columns[0]).toBe('time');
    switch (panel.type) {
      case 'timeseries':
      case 'barchart':
        expect(Math.max(...series.map((s) => s.values.length)), `${panel.title}: a line needs two points`).toBeGreaterThanOrEqual(2);
        expect(numbers(series).length).toBeGreaterThan(0);
        break;
      case 'stat':
      case 'gauge':
        expect(numbers(series).length, `${panel.title}: a number`).toBeGreaterThan(0);
        break;
      case 'geomap':
        expect(series.length, 'one row per drone').toBe(3);
        expect(values(series, 'lat').every((v) => typeof v === 'number')).toBe(true);
        expect(values(series, 'lon').every((v) => typeof v === 'number')).toBe(true);
        expect(values(series, 'state').every((v) => (DRONE_STATES as readonly unknown[]).includes(v))).toBe(true);
        break;
      case 'piechart':
        expect(new Set(values(series, 'state')).size, 'several states to slice').toBeGreaterThan(1);
        break;
      case 'histogram':
        expect(numbers(series).length).toBeGreaterThanOrEqual(3);
        break;
      case 'state-timeline':
        expect(series[0]!.values.length).toBeGreaterThan(10);
        expect(new Set(values(series, 'mode')).size, 'mode changes over the flight').toBeGreaterThan(1);
        break;
      case 'table':
        expect(series.reduce((n, s) => n + s.values.length, 0)).toBeGreaterThan(0);
        break;
      default:
        throw new Error(`${panel.title}: no expected shape for panel type ${panel.type}`);
    }
  }

  for (const f of files) {
    const d = load(f);
    for (const fleet of ['aerie', '.*']) {
      it(`${f} with fleet=${fleet}: variables, then every panel's queries`, async () => {
        const vars: Record<string, string> = { fleet };
        for (const v of d.templating.list) {
          const rows = values(await influxQuery(influx.url, 'aerie', substitute(v.query, vars)), 'value');
          expect(rows.length, `variable ${v.name}`).toBeGreaterThan(0);
          if (v.name !== 'fleet') vars[v.name] = String(rows[0]);
        }
        for (const p of d.panels) {
          for (const t of p.targets) {
            const q = substitute(t.query, vars);
            expect(q, `${p.title}: unsubstituted variable`).not.toMatch(/\$(?!tag_)\w/);
            expectShape(p, await influxQuery(influx.url, 'aerie', q));
          }
        }
      });
    }
  }
});
