import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../telemetry/src/config.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEPLOY = join(ROOT, 'deploy');
const read = (path: string): unknown => parse(readFileSync(path, 'utf8'));

interface Service { image: string; command?: string[]; environment?: Record<string, string>; volumes?: string[]; depends_on?: string[] }
const compose = read(join(DEPLOY, 'compose.yaml')) as { services: Record<string, Service> };
const services = compose.services;
const mounts = (s: Service): { source: string; target: string }[] =>
  (s.volumes ?? []).filter((v) => v.startsWith('.')).map((v) => {
    const [source = '', target = ''] = v.split(':');
    return { source: resolve(DEPLOY, source), target };
  });
const mountOf = (s: Service, target: string): string => {
  const m = mounts(s).find((x) => x.target === target);
  if (m === undefined) throw new Error(`nothing mounted at ${target}`);
  return m.source;
};

// No Docker here: the compose file is checked against the files it mounts and the services' own config.
describe('deploy/compose.yaml is consistent with what it mounts', () => {
  it('mounts only paths that exist, and depends only on services it defines', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const m of mounts(s)) expect(existsSync(m.source), `${name}: ${m.source}`).toBe(true);
      for (const d of s.depends_on ?? []) expect(Object.keys(services), `${name} depends on ${d}`).toContain(d);
    }
  });

  it("gives Grafana the repo's provisioning, and the provider finds the dashboards where they are mounted", () => {
    const g = services.grafana!;
    const datasources = mountOf(g, '/etc/grafana/provisioning/datasources');
    const providers = mountOf(g, '/etc/grafana/provisioning/dashboards');
    expect(datasources).toBe(join(ROOT, 'dashboards/grafana/provisioning/datasources'));
    const provider = read(join(providers, 'aerie.yaml')) as { providers: { options: { path: string } }[] };
    const dashDir = mountOf(g, provider.providers[0]!.options.path);
    expect(readdirSync(dashDir).filter((f) => f.endsWith('.json')).sort()).toEqual(['alerts.json', 'deliveries.json', 'drone-detail.json', 'fleet-overview.json']);
    const home = g.environment!.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH!;
    expect(statSync(join(dashDir, home.slice(provider.providers[0]!.options.path.length))).isFile()).toBe(true);
  });

  it('points the data source, the dashboards and the telemetry writer at the same InfluxDB database', () => {
    const g = services.grafana!;
    const ds = (read(join(mountOf(g, '/etc/grafana/provisioning/datasources'), 'influxdb.yaml')) as {
      datasources: { uid: string; type: string; url: string; jsonData: { dbName: string } }[];
    }).datasources[0]!;
    // Grafana expands ${VAR} in provisioning files from its environment.
    const url = ds.url.replace(/\$\{(\w+)\}/g, (_m, v: string) => g.environment?.[v] ?? `<unset ${v}>`);
    expect(url).toBe('http://influxdb:8086');
    for (const f of readdirSync(join(ROOT, 'dashboards/grafana/dashboards'))) {
      const uids = new Set([...readFileSync(join(ROOT, 'dashboards/grafana/dashboards', f), 'utf8').matchAll(/"uid": "([^"]+)"/g)].map((m) => m[1]));
      uids.delete((JSON.parse(readFileSync(join(ROOT, 'dashboards/grafana/dashboards', f), 'utf8')) as { uid: string }).uid);
      expect([...uids], f).toEqual([ds.uid]);
    }
    const env = { ...services.telemetry!.environment, AERIE_TELEMETRY_MQTT_PASSWORD: 'from .env' };
    const config = loadConfig({}, env);
    expect(config.influx).toMatchObject({ api: 'v1', url: 'http://influxdb:8086', database: ds.jsonData.dbName });
    expect(services.influxdb!.environment!.INFLUXDB_DB).toBe(ds.jsonData.dbName);
  });

  it('runs each Aerie service from a dist/main.js that its package builds', () => {
    for (const name of ['hub', 'core', 'telemetry']) {
      const script = services[name]!.command![1]!;
      expect(script).toMatch(/^[a-z-]+\/dist\/main\.js$/);
      expect(existsSync(join(ROOT, dirname(dirname(script)), 'src/main.ts')), script).toBe(true);
    }
  });
});
