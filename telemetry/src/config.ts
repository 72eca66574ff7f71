import { isTrustedProxyEntry } from '@aerie/contracts';
import { dirname, join } from 'node:path';
import { TelemetryError } from './errors.js';

/** Everything the service is told from outside; built once at start, frozen, passed down. */
export interface TelemetryConfig {
  /** broker URL: mqtt://, mqtts://, ws://, wss:// */
  readonly mqttUrl: string;
  /** the telemetry service principal; undefined for a broker without authentication */
  readonly mqttUsername: string | undefined;
  readonly mqttPassword: string | undefined;
  /** fixed, so the broker-side persistent session survives restarts */
  readonly clientId: string;
  /** SQLite file, or ':memory:' for a history that dies with the process */
  readonly dbPath: string;
  readonly httpHost: string;
  /** TCP port; 0 asks the OS for an ephemeral one */
  readonly httpPort: number;
  /**
   * Peers (IPs, CIDRs) whose X-Forwarded-For / X-Forwarded-Proto are believed: the gateway
   * (deploy/nginx). Empty (the default): trust none, the TCP peer is the client.
   */
  readonly trustedProxies: readonly string[];
  /** the `fleet` tag on every point */
  readonly fleet: string;
  /** the time-series database; undefined keeps history in the embedded store beside dbPath */
  readonly influx: InfluxConfig | undefined;
  /** where the writer parks batches while InfluxDB is down; undefined (':memory:' dbPath) keeps them in memory */
  readonly spillDir: string | undefined;
  /**
   * The write-ahead log (adapters/wal.ts): each taken message is appended here before its PUBACK,
   * so a kill -9 loses nothing the broker stopped holding. Beside dbPath by default; undefined
   * (':memory:' dbPath, no spill dir) acknowledges on receipt.
   */
  readonly walDir: string | undefined;
  /** fdatasync the log this often (ms); 0 (default): never — a killed process loses nothing, a crashed machine may */
  readonly walFsyncMs: number;
  /** the InfluxDB writer seals a batch this long after its first point (ms; default 1000) */
  readonly writeFlushMs: number | undefined;
  /** embedded store: raw for rawMs, then bucketMs means, deleted after keepMs */
  readonly retention: { readonly rawMs: number; readonly bucketMs: number; readonly keepMs: number };
}

/** v1: InfluxDB 1.x `/write` (database, retention policy, user, password). v2: the v2 write API (2.x, 3.x, Cloud, 1.8+). */
export interface InfluxConfig {
  readonly api: 'v1' | 'v2';
  readonly url: string;
  /** v1 database, and the InfluxQL database the history API and Grafana query (a DBRP mapping on 2.x) */
  readonly database: string;
  readonly retentionPolicy: string | undefined;
  readonly username: string | undefined;
  readonly password: string | undefined;
  /** v2 only */
  readonly token: string | undefined;
  readonly org: string | undefined;
  /** v2 only; defaults to database */
  readonly bucket: string | undefined;
}

export const CONFIG_DEFAULTS = {
  mqttUrl: 'mqtt://127.0.0.1:1883',
  clientId: 'aerie-telemetry',
  httpHost: '127.0.0.1',
  httpPort: 8083,
  dbFileName: 'telemetry.sqlite',
  fleet: 'default',
  influxDatabase: 'aerie',
  retention: { rawMs: 24 * 3600_000, bucketMs: 60_000, keepMs: 30 * 24 * 3600_000 },
} as const;

/** What a caller (tests, the demo, main.ts) may state; the rest takes CONFIG_DEFAULTS. */
export interface TelemetryConfigInput {
  mqttUrl?: string | undefined;
  mqttUsername?: string | undefined;
  mqttPassword?: string | undefined;
  clientId?: string | undefined;
  dbPath: string;
  httpHost?: string | undefined;
  httpPort?: number | undefined;
  trustedProxies?: readonly string[] | undefined;
  fleet?: string | undefined;
  influx?: (Partial<InfluxConfig> & { url: string }) | undefined;
  spillDir?: string | undefined;
  walDir?: string | undefined;
  walFsyncMs?: number | undefined;
  writeFlushMs?: number | undefined;
  retention?: Partial<TelemetryConfig['retention']> | undefined;
}

/** Validates and freezes; throws TelemetryError TEL_ERR_CONFIG naming the bad key. */
export function defineConfig(input: TelemetryConfigInput): TelemetryConfig {
  const config: TelemetryConfig = {
    mqttUrl: input.mqttUrl ?? CONFIG_DEFAULTS.mqttUrl,
    mqttUsername: input.mqttUsername,
    mqttPassword: input.mqttPassword,
    clientId: input.clientId ?? CONFIG_DEFAULTS.clientId,
    dbPath: input.dbPath,
    httpHost: input.httpHost ?? CONFIG_DEFAULTS.httpHost,
    httpPort: input.httpPort ?? CONFIG_DEFAULTS.httpPort,
    trustedProxies: Object.freeze([...(input.trustedProxies ?? [])]),
    fleet: input.fleet ?? CONFIG_DEFAULTS.fleet,
    influx: input.influx === undefined ? undefined : Object.freeze({
      api: input.influx.api ?? 'v1',
      url: input.influx.url,
      database: input.influx.database ?? CONFIG_DEFAULTS.influxDatabase,
      retentionPolicy: input.influx.retentionPolicy,
      username: input.influx.username,
      password: input.influx.password,
      token: input.influx.token,
      org: input.influx.org,
      bucket: input.influx.bucket,
    }),
    spillDir: input.spillDir ?? (input.dbPath === ':memory:' ? undefined : join(dirname(input.dbPath), 'telemetry-spill')),
    walDir: input.walDir ?? (input.dbPath === ':memory:' ? undefined : join(dirname(input.dbPath), 'telemetry-wal')),
    walFsyncMs: input.walFsyncMs ?? 0,
    writeFlushMs: input.writeFlushMs,
    retention: Object.freeze({ ...CONFIG_DEFAULTS.retention, ...input.retention }),
  };
  let url: URL | undefined;
  try {
    url = new URL(config.mqttUrl);
  } catch {
    url = undefined;
  }
  if (url === undefined || !['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'ws:', 'wss:'].includes(url.protocol)) {
    throw bad('mqttUrl', 'is not an mqtt://, mqtts://, ws:// or wss:// URL');
  }
  if (config.mqttPassword !== undefined && config.mqttUsername === undefined) {
    throw bad('mqttPassword', 'is set without mqttUsername ([MQTT-3.1.2-22])');
  }
  // MQTT 3.1.1 §3.1.3.1 only obliges brokers to accept 1–23 characters of [0-9a-zA-Z].
  if (!/^[0-9A-Za-z_-]{1,64}$/.test(config.clientId)) throw bad('clientId', 'must be 1–64 of [0-9A-Za-z_-]');
  if (config.dbPath.length === 0) throw bad('dbPath', 'is empty');
  if (config.httpHost.length === 0) throw bad('httpHost', 'is empty');
  if (!Number.isInteger(config.httpPort) || config.httpPort < 0 || config.httpPort > 65_535) {
    throw bad('httpPort', 'must be an integer from 0 to 65535');
  }
  const proxy = config.trustedProxies.find((p) => !isTrustedProxyEntry(p));
  if (proxy !== undefined) throw bad('trustedProxies', `has ${JSON.stringify(proxy)}, not an IP address or CIDR`);
  // Tag values may not contain a newline; commas and spaces are escaped, but a fleet name is an identity, not prose.
  if (!/^[0-9A-Za-z_.-]{1,64}$/.test(config.fleet)) throw bad('fleet', 'must be 1–64 of [0-9A-Za-z_.-]');
  if (config.influx !== undefined) {
    const i = config.influx;
    if (!/^https?:\/\//.test(i.url)) throw bad('influx.url', 'is not an http:// or https:// URL');
    if (i.api !== 'v1' && i.api !== 'v2') throw bad('influx.api', 'must be v1 or v2');
    if (i.api === 'v2' && i.token === undefined) throw bad('influx.token', 'is required by the v2 write API (1.8+: user:password)');
    if (i.password !== undefined && i.username === undefined) throw bad('influx.password', 'is set without influx.username');
  }
  // A log segment is deleted once its points are written or parked; parked in memory is not kept.
  if (config.walDir !== undefined && config.spillDir === undefined) throw bad('walDir', 'needs a spillDir: points parked in memory would not survive the restart the log is for');
  if (!Number.isInteger(config.walFsyncMs) || config.walFsyncMs < 0) throw bad('walFsyncMs', 'must be an integer >= 0');
  if (config.writeFlushMs !== undefined && !(Number.isInteger(config.writeFlushMs) && config.writeFlushMs > 0)) throw bad('writeFlushMs', 'must be an integer > 0');
  const r = config.retention;
  if (!(r.bucketMs > 0 && r.rawMs > 0 && r.keepMs >= r.rawMs)) throw bad('retention', 'needs bucketMs > 0, rawMs > 0 and keepMs >= rawMs');
  return Object.freeze(config);
}

/** Command-line flags as main.ts parsed them; every one falls back to an AERIE_TELEMETRY_* variable. */
export interface TelemetryFlags {
  mqttUrl?: string | undefined;
  mqttUsername?: string | undefined;
  mqttPassword?: string | undefined;
  dataDir?: string | undefined;
  httpPort?: string | undefined;
  influxUrl?: string | undefined;
}

/**
 * Flags first, then the environment, then defaults. The only reader of process.env:
 *   AERIE_TELEMETRY_MQTT_URL, _MQTT_USERNAME, _MQTT_PASSWORD (prefer it to the flag, which `ps`
 *   shows), _CLIENT_ID, _DATA_DIR (db file <dir>/telemetry.sqlite), _DB_PATH (a file or ':memory:',
 *   overridden by a data dir), _HTTP_HOST, _HTTP_PORT, _TRUSTED_PROXIES (comma-separated IPs/CIDRs
 *   of the gateway, whose X-Forwarded-* are believed; unset: none), _FLEET; InfluxDB: _INFLUX_URL (unset: the
 *   embedded store), _INFLUX_API (v1|v2), _INFLUX_DB, _INFLUX_RP, _INFLUX_USERNAME, _INFLUX_PASSWORD,
 *   _INFLUX_TOKEN, _INFLUX_ORG, _INFLUX_BUCKET, _WRITE_FLUSH_MS; write-ahead log: _WAL_DIR (default
 *   <data dir>/telemetry-wal), _WAL_FSYNC_MS (0: never).
 */
export function loadConfig(
  flags: TelemetryFlags = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): TelemetryConfig {
  const e = (name: string): string | undefined => {
    const v = env[`AERIE_TELEMETRY_${name}`];
    return v === undefined || v === '' ? undefined : v;
  };
  const dataDir = flags.dataDir ?? e('DATA_DIR');
  const dbPath = dataDir !== undefined ? join(dataDir, CONFIG_DEFAULTS.dbFileName) : e('DB_PATH');
  if (dbPath === undefined) {
    // No silent ':memory:' default: a history service that forgets on restart looks healthy until
    // someone needs yesterday's flight.
    throw bad('dbPath', 'is required: pass --data-dir, or set AERIE_TELEMETRY_DATA_DIR or AERIE_TELEMETRY_DB_PATH');
  }
  const port = flags.httpPort ?? e('HTTP_PORT');
  const influxUrl = flags.influxUrl ?? e('INFLUX_URL');
  return defineConfig({
    mqttUrl: flags.mqttUrl ?? e('MQTT_URL'),
    mqttUsername: flags.mqttUsername ?? e('MQTT_USERNAME'),
    mqttPassword: flags.mqttPassword ?? e('MQTT_PASSWORD'),
    clientId: e('CLIENT_ID'),
    dbPath,
    httpHost: e('HTTP_HOST'),
    httpPort: port === undefined ? undefined : /^\d+$/.test(port) ? Number(port) : Number.NaN,
    trustedProxies: e('TRUSTED_PROXIES')?.split(',').map((p) => p.trim()).filter((p) => p !== ''),
    fleet: e('FLEET'),
    walDir: e('WAL_DIR'),
    walFsyncMs: num(e('WAL_FSYNC_MS')),
    writeFlushMs: num(e('WRITE_FLUSH_MS')),
    influx: influxUrl === undefined ? undefined : {
      url: influxUrl,
      api: e('INFLUX_API') as InfluxConfig['api'] | undefined,
      database: e('INFLUX_DB'),
      retentionPolicy: e('INFLUX_RP'),
      username: e('INFLUX_USERNAME'),
      password: e('INFLUX_PASSWORD'),
      token: e('INFLUX_TOKEN'),
      org: e('INFLUX_ORG'),
      bucket: e('INFLUX_BUCKET'),
    },
  });
}

function num(v: string | undefined): number | undefined {
  return v === undefined ? undefined : /^\d+$/.test(v) ? Number(v) : Number.NaN;
}

function bad(key: string, why: string): TelemetryError {
  return new TelemetryError('TEL_ERR_CONFIG', `${key} ${why}`);
}
