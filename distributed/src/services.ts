import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnChild, type OutputSinks } from './child.js';
import { agentStatusReady, httpLive, httpReady } from './readiness.js';
import type { UnitSpec } from './supervisor.js';
import type { PoolFile } from './agent-pool.js';

/** A workspace package's command (`<pkg>/dist/main.js`, its `bin`), beside the entry node resolves. */
export function mainOf(pkg: string): string {
  return join(dirname(fileURLToPath(import.meta.resolve(pkg))), 'main.js');
}

/** The built pool entry; from src/ (under vitest) and dist/ alike, ../dist is this package's. */
export const AGENT_POOL_MAIN = fileURLToPath(new URL('../dist/agent-pool.js', import.meta.url));

/** How each service unit reaches the shared things. */
export interface ServiceContext {
  dir: string;
  mqttUrl: string;
  /** node's environment for the children, without the launcher's own AERIE_* settings leaking in. */
  baseEnv: NodeJS.ProcessEnv;
  sinks(name: string): OutputSinks;
}

const node = process.execPath;

/** Only PATH, HOME, locale and the like: a child's AERIE_* settings come from the launcher alone. */
export function cleanEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('AERIE_') && k !== 'DATABASE_URL'));
}

export function hubUnit(c: ServiceContext, n: number, creds: { username: string; password: string }, metricsPort: number, sharedGroup: string): UnitSpec {
  const name = `hub-${n}`;
  const dataDir = join(c.dir, name);
  mkdirSync(dataDir, { recursive: true });
  const url = `http://127.0.0.1:${metricsPort}`;
  return {
    name, tier: 1, info: { metricsUrl: url, dataDir },
    start: () => spawnChild({
      command: node,
      args: [mainOf('@aerie/fleet-hub'), '--external-url', c.mqttUrl, '--shared-group', sharedGroup, '--metrics-port', String(metricsPort), '--data-dir', dataDir],
      // The password through the environment, not argv (ps shows argv to every user).
      env: { ...c.baseEnv, AERIE_HUB_EXTERNAL_USERNAME: creds.username, AERIE_HUB_EXTERNAL_PASSWORD: creds.password },
    }, c.sinks(name)),
    probe: () => httpReady(url),
    live: (timeoutMs) => httpLive(url, timeoutMs),
  };
}

export function telemetryUnit(c: ServiceContext, creds: { username: string; password: string }, httpPort: number, influx: { url: string; db: string }): UnitSpec {
  const dataDir = join(c.dir, 'telemetry');
  mkdirSync(dataDir, { recursive: true });
  const url = `http://127.0.0.1:${httpPort}`;
  return {
    name: 'telemetry', tier: 2, info: { url, dataDir },
    start: () => spawnChild({
      command: node, args: [mainOf('@aerie/telemetry'), '--data-dir', dataDir, '--http-port', String(httpPort), '--influx-url', influx.url],
      env: {
        ...c.baseEnv, AERIE_TELEMETRY_MQTT_URL: c.mqttUrl, AERIE_TELEMETRY_MQTT_USERNAME: creds.username, AERIE_TELEMETRY_MQTT_PASSWORD: creds.password,
        AERIE_TELEMETRY_CLIENT_ID: 'aerie-telemetry', AERIE_TELEMETRY_INFLUX_API: 'v1', AERIE_TELEMETRY_INFLUX_DB: influx.db,
        // Only the gateway's X-Forwarded-For is believed (the history routes are behind it).
        AERIE_TELEMETRY_TRUSTED_PROXIES: '127.0.0.1',
        // The write-ahead log on the unit's own disk: what telemetry acknowledged survives a kill -9.
        AERIE_TELEMETRY_WAL_DIR: join(dataDir, 'telemetry-wal'),
      },
    }, c.sinks('telemetry')),
    probe: () => httpReady(url),
    live: (timeoutMs) => httpLive(url, timeoutMs),
  };
}

export interface CoreFiles {
  apiKeys: { key: string; clientId: string; role: string; account?: string }[];
  drones: { id: string; airframe: string; maxPayloadKg: number; maxRangeM: number; home: { lat: number; lon: number } }[];
}

/**
 * One delivery-core instance. Several (`name` core, core-2, …) share the PostgreSQL database:
 * each its own data dir (ingestion log), MQTT session and saga-lease owner (AERIE_CORE_INSTANCE_ID),
 * tracking events through the shared subscription `shareGroup` ('' with one instance).
 */
export function coreUnit(
  c: ServiceContext, creds: { username: string; password: string }, httpPort: number, databaseUrl: string, files: CoreFiles, trackingSecret: string,
  instance: { name: string; shareGroup: string } = { name: 'core', shareGroup: '' },
): UnitSpec {
  const { name } = instance;
  const dataDir = join(c.dir, name);
  mkdirSync(dataDir, { recursive: true });
  const keysFile = join(dataDir, 'api-keys.json');
  const dronesFile = join(dataDir, 'drones.json');
  writeFileSync(keysFile, JSON.stringify(files.apiKeys, null, 2) + '\n', { mode: 0o600 });
  writeFileSync(dronesFile, JSON.stringify(files.drones, null, 2) + '\n');
  const url = `http://127.0.0.1:${httpPort}`;
  return {
    name, tier: 2, info: { url, dataDir },
    start: () => spawnChild({
      command: node, args: [mainOf('@aerie/delivery-core'), '--http-port', String(httpPort), '--data-dir', dataDir],
      env: {
        ...c.baseEnv, DATABASE_URL: databaseUrl,
        AERIE_CORE_MQTT_URL: c.mqttUrl, AERIE_CORE_MQTT_USERNAME: creds.username, AERIE_CORE_MQTT_PASSWORD: creds.password,
        AERIE_CORE_API_KEYS_FILE: keysFile, AERIE_CORE_DRONES_FILE: dronesFile,
        // Tracking links survive a restart of the core; client addresses come from the gateway's headers, from it only.
        AERIE_CORE_TRACKING_SECRET: trackingSecret, AERIE_CORE_TRUSTED_PROXIES: '127.0.0.1',
        // The first keeps the default MQTT client id (aerie-core) of a one-core run.
        AERIE_CORE_INSTANCE_ID: name, ...(name === 'core' ? {} : { AERIE_CORE_MQTT_CLIENT_ID: `aerie-${name}` }),
        ...(instance.shareGroup ? { AERIE_CORE_MQTT_SHARE_GROUP: instance.shareGroup } : {}),
      },
    }, c.sinks(name)),
    probe: () => httpReady(url),
    live: (timeoutMs) => httpLive(url, timeoutMs),
  };
}

/** The simulated fleet: drone n sends MAVLink to gcsPortBase + n − 1, where its agent listens. */
export function simUnit(c: ServiceContext, o: { drones: number; speedup: number; gcsPortBase: number; home: { lat: number; lon: number; altMsl: number }; streamHz?: number }): UnitSpec {
  let started = false;
  return {
    name: 'sim', tier: 4, info: { drones: o.drones, speedup: o.speedup, gcsPortBase: o.gcsPortBase },
    start: async () => {
      started = false;
      const sinks = c.sinks('sim');
      return spawnChild({
        command: node,
        args: [mainOf('@aerie/simulator'), '--drones', String(o.drones), '--speedup', String(o.speedup), '--port-base', '0', '--gcs-host', '127.0.0.1',
          '--gcs-port-base', String(o.gcsPortBase), '--lat', String(o.home.lat), '--lon', String(o.home.lon), '--alt', String(o.home.altMsl), '--no-table',
          ...(o.streamHz ? ['--stream-hz', String(o.streamHz)] : [])],
        env: c.baseEnv,
      }, { file: sinks.file, line: (l) => {
        // It has no port to probe: the line it prints once every vehicle's socket is open is its readiness.
        if (/^aerie-sim: \d+ vehicles at /.test(l)) started = true;
        sinks.line(l);
      } });
    },
    probe: () => Promise.resolve(started),
  };
}

export interface AgentSpec {
  droneId: string;
  password: string;
  fcPort: number;
  /** DroneStatus rate on the ground and in flight; the agent's defaults (2 and 5 Hz) when absent. */
  publishHz?: number;
}

/** One `aerie-agent` process for one drone, as on its companion computer. */
export function agentUnit(c: ServiceContext, a: AgentSpec, healthPort: number, journalDir: string | null): UnitSpec {
  const name = `agent-${a.droneId}`;
  const dir = join(c.dir, 'agents', a.droneId);
  mkdirSync(dir, { recursive: true });
  const statusFile = join(dir, 'status.json');
  const url = `http://127.0.0.1:${healthPort}`;
  return {
    name, tier: 5, info: { droneId: a.droneId, fcPort: a.fcPort, healthUrl: url, dataDir: dir },
    start: () => spawnChild({
      command: node, args: [mainOf('@aerie/edge-agent'), '--drone-id', a.droneId, '--fc-listen', `127.0.0.1:${a.fcPort}`, '--mqtt-url', c.mqttUrl],
      env: {
        ...c.baseEnv, AERIE_AGENT_MQTT_PASSWORD: a.password, AERIE_AGENT_SPOOL_DIR: join(dir, 'spool'), AERIE_AGENT_STATUS_FILE: statusFile,
        AERIE_AGENT_HEALTH_PORT: String(healthPort),
        ...(a.publishHz ? { AERIE_AGENT_PUBLISH_HZ: String(a.publishHz), AERIE_AGENT_PUBLISH_HZ_IN_FLIGHT: String(a.publishHz) } : {}),
        ...(journalDir ? { AERIE_AGENT_PUBLISH_JOURNAL: join(journalDir, `${a.droneId}.jsonl`) } : {}),
      },
    }, c.sinks(name)),
    // Its /readyz once the agent serves one; until then the status file it rewrites every second.
    probe: async () => (await strictReady(url)) || agentStatusReady(statusFile),
    live: (timeoutMs) => httpLive(url, timeoutMs),
  };
}

async function strictReady(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** `agents` in one process (agent-pool.ts), for fleets where a process per drone does not fit. */
export function agentPoolUnit(c: ServiceContext, k: number, agents: readonly AgentSpec[], healthPort: number, journalDir: string | null): UnitSpec {
  const name = `agents-${k}`;
  const file = join(c.dir, 'agents', `${name}.json`);
  mkdirSync(dirname(file), { recursive: true });
  const pool: PoolFile = {
    mqttUrl: c.mqttUrl, healthPort,
    agents: agents.map((a) => ({
      ...a, spoolDir: join(c.dir, 'agents', a.droneId, 'spool'), publishJournal: journalDir ? join(journalDir, `${a.droneId}.jsonl`) : null,
    })),
  };
  writeFileSync(file, JSON.stringify(pool) + '\n', { mode: 0o600 });
  const url = `http://127.0.0.1:${healthPort}`;
  return {
    name, tier: 5, info: { drones: agents.map((a) => a.droneId), healthUrl: url },
    start: () => spawnChild({ command: node, args: [AGENT_POOL_MAIN, file], env: c.baseEnv }, c.sinks(name)),
    probe: () => strictReady(url),
    live: (timeoutMs) => httpLive(url, timeoutMs),
  };
}
