import { join } from 'node:path';
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
}

export const CONFIG_DEFAULTS = {
  mqttUrl: 'mqtt://127.0.0.1:1883',
  clientId: 'aerie-telemetry',
  httpHost: '127.0.0.1',
  httpPort: 8083,
  dbFileName: 'telemetry.sqlite',
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
  return Object.freeze(config);
}

/** Command-line flags as main.ts parsed them; every one falls back to an AERIE_TELEMETRY_* variable. */
export interface TelemetryFlags {
  mqttUrl?: string | undefined;
  mqttUsername?: string | undefined;
  mqttPassword?: string | undefined;
  dataDir?: string | undefined;
  httpPort?: string | undefined;
}

/**
 * Flags first, then the environment, then defaults. The only reader of process.env:
 *   AERIE_TELEMETRY_MQTT_URL, _MQTT_USERNAME, _MQTT_PASSWORD (prefer it to the flag, which `ps`
 *   shows), _CLIENT_ID, _DATA_DIR (db file <dir>/telemetry.sqlite), _DB_PATH (a file or ':memory:',
 *   overridden by a data dir), _HTTP_HOST, _HTTP_PORT.
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
  return defineConfig({
    mqttUrl: flags.mqttUrl ?? e('MQTT_URL'),
    mqttUsername: flags.mqttUsername ?? e('MQTT_USERNAME'),
    mqttPassword: flags.mqttPassword ?? e('MQTT_PASSWORD'),
    clientId: e('CLIENT_ID'),
    dbPath,
    httpHost: e('HTTP_HOST'),
    httpPort: port === undefined ? undefined : /^\d+$/.test(port) ? Number(port) : Number.NaN,
  });
}

function bad(key: string, why: string): TelemetryError {
  return new TelemetryError('TEL_ERR_CONFIG', `${key} ${why}`);
}
