import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gridHomes } from '@aerie/simulator';
import { openLog, type OutputSinks, type Started } from './child.js';
import { prepareInflux } from './engines/influxdb.js';
import { prepareMosquitto, type BrokerUser } from './engines/mosquitto.js';
import { preparePostgres } from './engines/postgres.js';
import { runningAsRoot } from './engines/system.js';
import { startGateway } from './gateway.js';
import { httpsRequest } from './https-client.js';
import { freePort, freeUdpBlock } from './ports.js';
import { portOpen, procId } from './proc.js';
import { reapLeftovers } from './leftovers.js';
import { Secrets } from './secrets.js';
import { agentPoolUnit, agentUnit, cleanEnv, coreUnit, hubUnit, simUnit, telemetryUnit, type AgentSpec, type ServiceContext } from './services.js';
import { Supervisor, type LivenessOptions, type ProcessInfo, type UnitSpec } from './supervisor.js';
import { gatewayPki } from './tls.js';

export type { ProcessInfo } from './supervisor.js';

export interface DistributedOptions {
  /** Liveness of the services with a /livez (supervisor.ts LivenessOptions); LIVENESS_DEFAULTS when absent. */
  liveness?: Partial<LivenessOptions>;
  /** Runtime dir: engines' data, logs/<name>.log, state.json (pids, ports, urls). */
  dir: string;
  /** Simulated vehicles and edge agents. */
  drones: number;
  /** 1 (default): one aerie-agent process per drone; > 1: that many agents per agent-pool process. */
  agentsPerProcess?: number;
  /** Simulator warp (default 1). */
  speedup?: number;
  /** 0 = a free port (tests); default 8443. */
  gatewayPort?: number;
  /** The supervisor restarts exited children (default true). */
  restart?: boolean;
  /** When set, every agent writes its publish journal there (<dir>/<droneId>.jsonl, edge-agent's publishJournal). */
  agentJournalDir?: string;
  /** The simulator's MAVLink stream rate (its default 4 Hz) and the agents' DroneStatus rate (their defaults 2 Hz
   *  on the ground, 5 in flight): lower both for fleets of hundreds on a small machine (the soak). */
  streamHz?: number;
  publishHz?: number;
  /** Mosquitto's autosave_interval with autosave_on_changes (default 1: save after every change). */
  brokerAutosaveChanges?: number;
  log?: (line: string) => void;
  /**
   * delivery-core instances on the one PostgreSQL (default 1): core, core-2, …, each its own port,
   * data dir, MQTT session and saga-lease owner, all behind the gateway (it hashes creates over them).
   */
  coreInstances?: number;
}

export interface Distributed {
  /** https://127.0.0.1:PORT (nginx, TLS). */
  gatewayUrl: string;
  /** The CA that signed the gateway's certificate. */
  caFile: string;
  /** An API key delivery-core accepts (role business, with a registered account), via the gateway. */
  apiKey: string;
  /** An operator's API key: drone tracks, the fleet and the history through the gateway (its auth_request) need that role. */
  opsApiKey: string;
  account: string;
  influx: { url: string; db: string };
  databaseUrl: string;
  mqttUrl: string;
  serviceCredentials: { username: string; password: string };
  droneIds: string[];
  /** Behind the gateway, for diagnostics: delivery-core, telemetry, the hubs' metrics. */
  coreUrl: string;
  telemetryUrl: string;
  hubMetricsUrls: string[];
  logsDir: string;
  stateFile: string;
  names(): string[];
  processes(): ProcessInfo[];
  /** SIGKILL (default) to the whole process group; resolves once it exited. The supervisor restarts it. */
  kill(name: string, signal?: NodeJS.Signals): Promise<void>;
  /** Resolves when (re)started and ready (its /readyz, or its port for engines). */
  waitReady(name: string, timeoutMs?: number): Promise<void>;
  /** SIGTERM in reverse start order, SIGKILL after a grace; nothing left running. */
  stop(): Promise<void>;
}

/** The depot the simulated fleet stands at (as the demo's). */
export const HOME = { lat: 47.3977, lon: 8.5456, altMsl: 488 };
const SHARED_GROUP = 'aerie';
const READY_MS = 90_000;

const hhmmss = () => new Date().toISOString().slice(11, 23);

/**
 * Every Aerie service in its own process on real engines, behind nginx: Mosquitto, PostgreSQL and
 * InfluxDB, two fleet hubs sharing the fleet, telemetry and delivery-core, the gateway, the
 * simulated fleet and its edge agents, each supervised (restart with backoff) and ready before
 * the next tier starts.
 */
export async function startDistributed(opts: DistributedOptions): Promise<Distributed> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const dir = resolve(opts.dir);
  mkdirSync(dir, { recursive: true });
  // Mosquitto and PostgreSQL drop to their own users under root: they must reach their dirs.
  if (runningAsRoot()) chmodSync(dir, 0o755);
  const logsDir = join(dir, 'logs');
  mkdirSync(logsDir, { recursive: true });
  const launcherLog = openLog(join(logsDir, 'launcher.log'));
  const sayLine = (line: string) => {
    launcherLog.write(`${hhmmss()} ${line}\n`);
    log(line);
  };
  const sinks = (name: string): OutputSinks => {
    const file = openLog(join(logsDir, `${name}.log`));
    return { file, line: (l) => launcherLog.write(`${hhmmss()} ${name.padEnd(14)}| ${l.length > 240 ? `${l.slice(0, 240)}…` : l}\n`) };
  };

  await reapLeftovers(join(dir, 'state.json'), sayLine);
  const secrets = new Secrets(join(dir, 'secrets.json'));
  const droneIds = Array.from({ length: opts.drones }, (_, i) => `drone-${String(i + 1).padStart(3, '0')}`);
  const svc = (name: string) => ({ username: `svc-${name}`, password: secrets.get(`mqtt.svc-${name}`) });
  const hubCreds = svc('hub');
  const coreCreds = svc('core');
  const telemetryCreds = svc('telemetry');
  const opsCreds = svc('ops');
  const users: BrokerUser[] = [
    ...[hubCreds, coreCreds, telemetryCreds, opsCreds].map((c) => ({ ...c, role: 'service' as const })),
    ...droneIds.map((id) => ({ username: id, password: secrets.get(`mqtt.${id}`), role: 'drone' as const })),
  ];
  const account = 'acme-logistics';
  const apiKey = secrets.get('core.apiKey', 24);
  const opsApiKey = secrets.get('core.opsApiKey', 24);
  const pg = { user: 'aerie', password: secrets.get('postgres.password'), database: 'aerie' };
  const trackingSecret = secrets.get('core.trackingSecret', 32);
  secrets.save();

  const [mqttPort, pgPort, influxPort, influxRpc, hub1Port, hub2Port, telemetryPort, corePort] = await Promise.all(Array.from({ length: 8 }, () => freePort()));
  const coreNames = Array.from({ length: Math.max(1, Math.floor(opts.coreInstances ?? 1)) }, (_, k) => (k === 0 ? 'core' : `core-${k + 1}`));
  const corePorts = [corePort!, ...await Promise.all(coreNames.slice(1).map(() => freePort()))];
  const gatewayPort = opts.gatewayPort === 0 ? await freePort() : opts.gatewayPort ?? 8443;
  const mosquitto = prepareMosquitto({ dir: join(dir, 'mosquitto'), port: mqttPort!, users, ...(opts.brokerAutosaveChanges ? { autosaveChanges: opts.brokerAutosaveChanges } : {}) });
  const postgres = preparePostgres({ dir: join(dir, 'pg'), port: pgPort!, ...pg });
  const influx = prepareInflux({ dir: join(dir, 'influx'), httpPort: influxPort!, rpcPort: influxRpc!, database: 'aerie' });
  const pki = gatewayPki(join(dir, 'tls'));
  const gatewayUrl = `https://127.0.0.1:${gatewayPort}`;

  const supervisor = new Supervisor({
    restart: opts.restart ?? true,
    ...(opts.liveness ? { liveness: opts.liveness } : {}),
    stateFile: join(dir, 'state.json'),
    log: sayLine,
    state: () => ({
      launcherPid: process.pid, launcherStart: procId(process.pid)?.start ?? null, dir, gatewayUrl, caFile: pki.caFile, mqttUrl: mosquitto.url, databaseUrl: postgres.url.replace(/:[^:@/]*@/, ':***@'),
      influx: { url: influx.url, db: 'aerie' }, drones: droneIds.length,
    }),
  });
  const engine = (name: string, e: { start(o: OutputSinks): Promise<Started>; probe(): Promise<boolean>; port: number }, extra: Partial<UnitSpec>): UnitSpec => ({
    name, tier: 0, info: { port: e.port, dataDir: join(dir, name === 'influxdb' ? 'influx' : name === 'postgres' ? 'pg' : name) },
    start: () => e.start(sinks(name)), probe: () => e.probe(), ...extra,
  });
  const ctx: ServiceContext = { dir, mqttUrl: mosquitto.url, baseEnv: cleanEnv(process.env), sinks };

  try {
    await supervisor.startTier([
      engine('mosquitto', mosquitto, {}),
      // SIGINT is PostgreSQL's fast shutdown: sessions are ended, not waited for (SIGTERM would wait).
      engine('postgres', postgres, { stopSignal: 'SIGINT' }),
      engine('influxdb', influx, {}),
    ], READY_MS);
    await Promise.all([postgres.ensureDatabase(), influx.ensureDatabase()]);

    await supervisor.startTier([hubUnit(ctx, 1, hubCreds, hub1Port!, SHARED_GROUP), hubUnit(ctx, 2, hubCreds, hub2Port!, SHARED_GROUP)], READY_MS);
    const homes = gridHomes(droneIds.length, HOME, 5);
    await supervisor.startTier([
      telemetryUnit(ctx, telemetryCreds, telemetryPort!, { url: influx.url, db: 'aerie' }),
      ...coreNames.map((name, k) => coreUnit(ctx, coreCreds, corePorts[k]!, postgres.url, {
        apiKeys: [{ key: apiKey, clientId: 'distributed-business', role: 'business', account }, { key: opsApiKey, clientId: 'distributed-ops', role: 'operator' }],
        drones: droneIds.map((id, i) => ({ id, airframe: 'sim quad 2 kg', maxPayloadKg: 2.5, maxRangeM: 20_000, home: { lat: homes[i]!.lat, lon: homes[i]!.lon } })),
      }, trackingSecret, { name, shareGroup: coreNames.length > 1 ? 'aerie-core' : '' })),
    ], READY_MS);

    await supervisor.startTier([{
      name: 'gateway', tier: 3, info: { url: gatewayUrl, port: gatewayPort, dataDir: join(dir, 'gateway') },
      start: async () => {
        const g = await startGateway({
          dir: join(dir, 'gateway'), port: gatewayPort, tlsCert: pki.certFile, tlsKey: pki.keyFile,
          core: corePorts.map((p) => `127.0.0.1:${p}`), telemetry: [`127.0.0.1:${telemetryPort}`],
        });
        return { pid: g.pid, exited: g.exited.then((code) => `exit ${code}`) };
      },
      probe: () => portOpen(gatewayPort),
    }], READY_MS);
    await registerAccount(gatewayUrl, pki.caFile, apiKey, account);

    const fcBase = await freeUdpBlock(droneIds.length);
    await supervisor.startTier([simUnit(ctx, { drones: droneIds.length, speedup: opts.speedup ?? 1, gcsPortBase: fcBase, home: HOME, ...(opts.streamHz ? { streamHz: opts.streamHz } : {}) })], READY_MS);
    const agents: AgentSpec[] = droneIds.map((droneId, i) => ({ droneId, password: secrets.get(`mqtt.${droneId}`), fcPort: fcBase + i, ...(opts.publishHz ? { publishHz: opts.publishHz } : {}) }));
    const journalDir = opts.agentJournalDir ? resolve(opts.agentJournalDir) : null;
    if (journalDir) mkdirSync(journalDir, { recursive: true });
    const per = Math.max(1, Math.floor(opts.agentsPerProcess ?? 1));
    const agentUnits: UnitSpec[] = [];
    for (let k = 0; k * per < agents.length; k++) {
      const group = agents.slice(k * per, (k + 1) * per);
      const healthPort = await freePort();
      agentUnits.push(per === 1 ? agentUnit(ctx, group[0]!, healthPort, journalDir) : agentPoolUnit(ctx, k + 1, group, healthPort, journalDir));
    }
    await supervisor.startTier(agentUnits, READY_MS);
    supervisor.writeState();
  } catch (err) {
    const notReady = supervisor.processes().filter((p) => !p.ready).map((p) => p.name);
    await supervisor.stop();
    launcherLog.end();
    const tails = notReady.map((n) => `--- ${n} (${join(logsDir, `${n}.log`)}):\n${tail(join(logsDir, `${n}.log`))}`).join('\n');
    throw new Error(`distributed start failed: ${(err as Error).message}${tails ? `\n${tails}` : ''}`, { cause: err });
  }

  let stopping: Promise<void> | undefined;
  return {
    gatewayUrl, caFile: pki.caFile, apiKey, opsApiKey, account,
    influx: { url: influx.url, db: 'aerie' }, databaseUrl: postgres.url, mqttUrl: mosquitto.url,
    serviceCredentials: opsCreds, droneIds,
    coreUrl: `http://127.0.0.1:${corePort}`, telemetryUrl: `http://127.0.0.1:${telemetryPort}`,
    hubMetricsUrls: [hub1Port, hub2Port].map((p) => `http://127.0.0.1:${p}`),
    logsDir, stateFile: join(dir, 'state.json'),
    names: () => supervisor.names(),
    processes: () => supervisor.processes(),
    kill: (name, signal) => supervisor.kill(name, signal),
    waitReady: (name, timeoutMs) => supervisor.waitReady(name, timeoutMs),
    // Once: a second call (Ctrl-C twice, a test's afterAll after its own stop) waits for the first.
    stop: () => (stopping ??= (async () => {
      await supervisor.stop();
      await new Promise<void>((r) => launcherLog.end(r));
    })()),
  };
}

/** The business the API key speaks for, registered once (idempotent PUT: 201, then 200). */
async function registerAccount(gatewayUrl: string, caFile: string, apiKey: string, account: string): Promise<void> {
  const res = await httpsRequest(`${gatewayUrl}/api/v1/accounts/${account}`, {
    caFile, method: 'PUT', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'business', name: 'ACME Logistics (distributed mode)' }),
  });
  if (res.status !== 200 && res.status !== 201) throw new Error(`registering account ${account} through the gateway: ${res.status} ${res.body}`);
}

function tail(file: string, lines = 15): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').split('\n').slice(-lines - 1).join('\n');
}
