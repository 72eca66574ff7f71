// The manifests against the services' real configuration: each container's arguments and
// environment go through the service's own parser (fleet-hub's parseHubCommand, telemetry's
// loadConfig, delivery-core's coreConfig and its command-line options), and the ports it would
// listen on must be the ports the probes, the container and the Services use.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IService } from 'kubernetes-models/v1/Service';
import { parseHubCommand } from '../../fleet-hub/src/cli.js';
import { loadConfig } from '../../telemetry/src/config.js';
import { coreConfig, defaultCoreConfig } from '../../delivery-core/src/config.js';
import {
  ROOT, aeriePackage, containerEnv, containersOf, loadManifests, loadSecretTemplates, portNumber, workloads, type K8sObject, type Workload,
} from './k8s.js';
import { dockerfiles, execForm, imageEnv } from './docker.js';

const objs = loadManifests();
const images = dockerfiles();
const services = objs.filter((o): o is K8sObject & IService => o.kind === 'Service');

function aerie(pkg: string): { w: Workload; c: IContainer; argv: string[]; env: Record<string, string> } {
  const w = workloads(objs).find((x) => containersOf(x).some((c) => aeriePackage(c) === pkg));
  if (!w) throw new Error(`no workload runs aerie/${pkg}`);
  const c = containersOf(w).find((x) => aeriePackage(x) === pkg)!;
  const runtime = images.get(pkg)?.at(-1);
  if (!runtime) throw new Error(`no deploy/docker/${pkg}.Dockerfile`);
  // Kubernetes: `command` replaces ENTRYPOINT, `args` replaces CMD.
  expect(c.command, `${pkg}: keep the image's ENTRYPOINT (its bin)`).toBeUndefined();
  return { w, c, argv: c.args ?? execForm(runtime, 'CMD') ?? [], env: containerEnv(c, objs, imageEnv(runtime)) };
}

/** Runs a config parser on an environment that records every name the parser looks up. */
function recordReads<T>(env: Record<string, string>, parse: (env: NodeJS.ProcessEnv) => T): { result: T; read: Set<string> } {
  const read = new Set<string>();
  const proxy = new Proxy(env, { get: (t, k) => { if (typeof k === 'string') read.add(k); return t[k as string]; } });
  return { result: parse(proxy), read };
}

/** Environment names a package's code reads (`env.NAME`, `env['NAME']`; telemetry's `e('NAME')` under its prefix). */
function envReadsInSource(pkg: string, prefixed?: string): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string): void => {
    for (const f of readdirSync(dir)) {
      const p = join(dir, f);
      if (statSync(p).isDirectory()) { if (f !== 'bench') walk(p); continue; }
      if (!f.endsWith('.ts')) continue;
      const src = readFileSync(p, 'utf8');
      for (const m of src.matchAll(/\benv(?:\.|\[['"`])([A-Z][A-Z0-9_]*)/g)) names.add(m[1]!);
      if (prefixed) for (const m of src.matchAll(/\be\('([A-Z][A-Z0-9_]*)'\)/g)) names.add(`${prefixed}${m[1]!}`);
    }
  };
  walk(join(ROOT, pkg, 'src'));
  return names;
}

/** The port a Service in this namespace gives `host:port` (by Service name), resolved to the container port behind it. */
function serviceBehind(url: string): { service: string; port: number } {
  const u = new URL(url);
  // service[.namespace…], or a StatefulSet pod's own name: pod-N.service[.namespace…]
  const labels = u.hostname.split('.');
  const name = (labels.length > 1 && /-\d+$/.test(labels[0]!) ? labels[1] : labels[0])!;
  const s = services.find((x) => x.metadata.name === name);
  if (!s) throw new Error(`${url}: no Service ${name}`);
  const port = Number(u.port || { 'mqtt:': 1883, 'http:': 80, 'postgres:': 5432 }[u.protocol]);
  const sp = s.spec?.ports?.find((p) => p.port === port);
  if (!sp) throw new Error(`${url}: Service ${name} has no port ${port}`);
  return { service: name, port };
}

const mounted = (c: IContainer, path: string): boolean => (c.volumeMounts ?? []).some((m) => path === m.mountPath || path.startsWith(`${m.mountPath}/`));
const probePorts = (c: IContainer): (number | undefined)[] =>
  [c.livenessProbe, c.readinessProbe, c.startupProbe].filter((p) => p !== undefined).map((p) => portNumber(c, p.httpGet?.port));
const serviceTargets = (w: Workload, c: IContainer): (number | undefined)[] => services
  .filter((s) => Object.entries(s.spec?.selector ?? {}).every(([k, v]) => w.spec.template.metadata?.labels?.[k] === v))
  .flatMap((s) => (s.spec?.ports ?? []).map((p) => portNumber(c, p.targetPort ?? p.port)));

describe('the manifests speak each service\'s own configuration', () => {
  it('sets only environment variables the services read (image ENV, ConfigMaps and env alike)', () => {
    const reads: Record<string, Set<string>> = {
      'fleet-hub': new Set([...envReadsInSource('fleet-hub'), ...recordReads(aerie('fleet-hub').env, (e) => parseHubCommand(aerie('fleet-hub').argv, e)).read]),
      telemetry: new Set([...envReadsInSource('telemetry', 'AERIE_TELEMETRY_'), ...recordReads(aerie('telemetry').env, (e) => loadConfig({}, e)).read]),
      'delivery-core': envReadsInSource('delivery-core'),
    };
    for (const [pkg, known] of Object.entries(reads)) {
      expect(known.size, pkg).toBeGreaterThan(3);
      // NODE_ENV is the runtime's (and its libraries'), set by the images.
      for (const name of Object.keys(aerie(pkg).env)) if (name !== 'NODE_ENV') expect([...known], `${pkg} does not read ${name}`).toContain(name);
    }
  });

  it('fleet-hub: on the external broker in a shared group, its metrics port is the one probed, declared and served', () => {
    const { w, c, argv, env } = aerie('fleet-hub');
    const cmd = parseHubCommand(argv, env);
    if (cmd.kind !== 'run') throw new Error('not a run command');
    const cfg = cmd.config;
    expect(cfg.broker).toBe('external');
    expect(serviceBehind(cfg.externalUrl).service).toBe('mosquitto');
    expect(cfg.externalUsername).not.toBe('');
    // Two hubs on one broker share the fleet only in a shared group (MQTT 5 shared subscription).
    if ((w.spec.replicas ?? 1) > 1) expect(cfg.sharedGroup).not.toBe('');
    // The metrics server binds --mqtt-host: a probe comes from outside the container.
    expect(cfg.mqttHost).toBe('0.0.0.0');
    expect(cfg.metricsPort).not.toBeNull();
    expect(c.ports?.map((p) => p.containerPort)).toEqual([cfg.metricsPort]);
    expect(new Set([...probePorts(c), ...serviceTargets(w, c)])).toEqual(new Set([cfg.metricsPort]));
    expect(mounted(c, cfg.dataDir), `data dir ${cfg.dataDir} on a volume`).toBe(true);
  });

  it('delivery-core: its flags are ones aerie-core takes, it listens on the probed port on every interface, PostgreSQL from the Secret, one instance per MQTT client id', () => {
    const { w, c, argv, env } = aerie('delivery-core');
    // aerie-core's options, as its main.ts declares them.
    const main = readFileSync(join(ROOT, 'delivery-core/src/main.ts'), 'utf8');
    const options = Object.fromEntries([...main.matchAll(/'?([a-z][a-z-]*)'?: \{ type: '(string|boolean)' \}/g)].map((m) => [m[1]!, { type: m[2] as 'string' | 'boolean' }]));
    expect(Object.keys(options)).toContain('http-host');
    const { values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
    expect(values['http-host']).toBe('0.0.0.0');
    expect(main).toMatch(/env\.AERIE_CORE_HTTP_PORT/);
    // As main.ts reads them; coreConfig refuses a port or a proxy CIDR that is not one.
    const cfg = coreConfig({
      httpPort: Number(values['http-port'] ?? env.AERIE_CORE_HTTP_PORT ?? defaultCoreConfig.httpPort),
      trustedProxies: (env.AERIE_CORE_TRUSTED_PROXIES ?? '').split(',').map((x) => x.trim()).filter((x) => x !== ''),
    });
    // Behind the gateway every client would otherwise share the gateway's rate-limit bucket.
    expect(cfg.trustedProxies.length).toBeGreaterThan(0);
    expect(c.ports?.map((p) => p.containerPort)).toEqual([cfg.httpPort]);
    expect(new Set([...probePorts(c), ...serviceTargets(w, c)])).toEqual(new Set([cfg.httpPort]));
    expect(env.DATABASE_URL).toBe('<secret aerie-core/database-url>');
    const dbUrl = (loadSecretTemplates().find((s) => s.metadata.name === 'aerie-core') as unknown as { stringData: Record<string, string> }).stringData['database-url']!;
    expect(serviceBehind(dbUrl).service).toBe('postgres');
    expect(serviceBehind(env.AERIE_CORE_MQTT_URL!).service).toBe('mosquitto');
    // The ingestion log (DATA_DIR/ingest) is per instance: on the StatefulSet's claim.
    expect(w.kind).toBe('StatefulSet');
    expect(mounted(c, env.AERIE_CORE_DATA_DIR!)).toBe(true);
    expect((w.spec as { volumeClaimTemplates?: { metadata: { name: string } }[] }).volumeClaimTemplates?.map((t) => t.metadata.name))
      .toContain(c.volumeMounts?.find((m) => env.AERIE_CORE_DATA_DIR!.startsWith(m.mountPath))?.name);
    expect(mounted(c, env.AERIE_CORE_API_KEYS_FILE!)).toBe(true);
    // Several replicas on one broker and database: each pod its own MQTT session and saga-lease
    // owner (its name), tracking events through a shared subscription group (one pod per event).
    expect(cfg.mqtt.clientId).toBe(defaultCoreConfig.mqtt.clientId);
    if ((w.spec.replicas ?? 1) > 1) {
      for (const name of ['AERIE_CORE_MQTT_CLIENT_ID', 'AERIE_CORE_INSTANCE_ID']) {
        expect(envReadsInSource('delivery-core').has(name), name).toBe(true);
        expect(c.env?.find((e) => e.name === name)?.valueFrom?.fieldRef?.fieldPath, name).toBe('metadata.name');
      }
      const shared = coreConfig({ mqtt: { trackingShareGroup: env.AERIE_CORE_MQTT_SHARE_GROUP ?? '' } });
      expect(shared.mqtt.trackingShareGroup).not.toBe('');
    }
  });

  it('telemetry: its loadConfig gives the probed port on every interface, InfluxDB and Mosquitto by Service, its spill on the claimed volume', () => {
    const { w, c, env } = aerie('telemetry');
    const cfg = loadConfig({}, env);
    expect(cfg.httpHost).toBe('0.0.0.0');
    expect(cfg.trustedProxies.length).toBeGreaterThan(0);
    expect(c.ports?.map((p) => p.containerPort)).toEqual([cfg.httpPort]);
    expect(new Set([...probePorts(c), ...serviceTargets(w, c)])).toEqual(new Set([cfg.httpPort]));
    expect(serviceBehind(cfg.influx!.url).service).toBe('influxdb');
    expect(serviceBehind(cfg.mqttUrl).service).toBe('mosquitto');
    expect(cfg.mqttUsername).not.toBeUndefined();
    for (const p of [cfg.dbPath, cfg.spillDir!]) expect(mounted(c, p), p).toBe(true);
    // Fixed client id (a persistent session per instance): replicas share one only if each pod sets its own.
    if ((w.spec.replicas ?? 1) > 1) expect(c.env?.find((e) => e.name === 'AERIE_TELEMETRY_CLIENT_ID')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
  });
});
