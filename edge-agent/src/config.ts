import { AgentError } from './errors.js';
import { parseIotConnectionString } from './adapters/iothub-connection-string.js';

export interface AgentConfig {
  droneId: string;
  fc: {
    /** How the flight controller is wired: UDP (SITL, WiFi/Ethernet radios), TCP client (SITL :5760, mavlink-router), serial UART/USB. */
    link: 'udp' | 'tcp' | 'serial';
    /** UDP: local address to listen on. TCP: the server to connect to. */
    host: string;
    port: number;
    /** UDP only: fixed flight-controller address; null learns it from the first datagram and replies there. */
    peer: { address: string; port: number } | null;
    /** Serial only: device and baud (ArduPilot TELEM default 57600; PX4 TELEM2 companion 921600). */
    device: string;
    baudRate: number;
    /** Our own MAVLink identity: companion computer (MAV_COMP_ID_ONBOARD_COMPUTER = 191). */
    sysid: number;
    compid: number;
    /** Outgoing MAVLink version; MAVLink 1 packets are always accepted in. */
    mavlinkVersion: 1 | 2;
    /** Link declared lost after this long without an FC heartbeat (ms). */
    linkTimeoutMs: number;
    /** Per-attempt wait for COMMAND_ACK / mission requests (ms). */
    ackTimeoutMs: number;
    /** Telemetry rate asked of the FC (SET_MESSAGE_INTERVAL, or REQUEST_DATA_STREAM on old firmware); 0 asks nothing. */
    streamHz: number;
    /** MAVLink 2 signing; null sends unsigned and accepts everything CRC-valid. */
    signing: { key: string; linkId: number; unsigned: 'accept' | 'reject' } | null;
    /** Raw-link recording to rotating .tlog files; null records nothing. */
    record: { dir: string; maxFileMb: number; maxFiles: number } | null;
  };
  /** Which transport carries the agent's traffic: 'mqtt' (the mqtt section) or 'iothub' (Azure IoT Hub, or fleet-hub's IoT Hub-compatible endpoint). */
  uplink: 'mqtt' | 'iothub';
  iothub: {
    /** Device connection string: `HostName=…;DeviceId=…;SharedAccessKey=…`, or `HostName=…;DeviceId=…;x509=true` with cert and key. */
    connectionString: string;
    /** PEM file paths: CA to trust (a self-hosted endpoint), device certificate and key (X.509). */
    ca: string | null;
    cert: string | null;
    key: string | null;
  };
  mqtt: {
    url: string;
    username: string;
    password: string;
    /** PEM file paths for mqtts://: CA to trust, and a client certificate and key for mutual TLS. */
    ca: string | null;
    cert: string | null;
    key: string | null;
  };
  /** DroneStatus publications per second on the ground, and while in the air. */
  publishHz: number;
  publishHzInFlight: number;
  /** Store-and-forward while the uplink is down; null keeps nothing across an outage but mqtt.js's memory. */
  spool: { dir: string; maxMb: number; statusMaxAgeS: number; eventMaxAgeS: number } | null;
  /** A JSON file rewritten with the agent's state every second, for local health checks; null writes none. */
  statusFile: string | null;
  /** Hex HMAC-SHA256 key shared with the hub; when set, commands without a valid `hmac` are refused. */
  commandHmacKey: string | null;
  /**
   * GET /livez and /readyz for the operator's supervisor (systemd, the launcher): ready when the FC
   * heartbeat is fresh and the uplink connected. null = no health server (0 = an ephemeral port).
   */
  healthPort: number | null;
  /** Where the health server listens: loopback by default, the drone's own supervisor asks. */
  healthHost: string;
  /** A file to append one JSON line per DroneStatus the broker acknowledged (audits, bench:faults); null keeps none. */
  publishJournal: string | null;
}

export const defaultAgentConfig = {
  fc: {
    link: 'udp', host: '127.0.0.1', port: 14550, peer: null, device: '/dev/ttyAMA0', baudRate: 57600, sysid: 1, compid: 191,
    mavlinkVersion: 2, linkTimeoutMs: 3000, ackTimeoutMs: 1000, streamHz: 4, signing: null, record: null,
  },
  uplink: 'mqtt',
  iothub: { connectionString: '', ca: null, cert: null, key: null },
  mqtt: { url: 'mqtt://127.0.0.1:1883', username: '', password: '', ca: null, cert: null, key: null },
  publishHz: 2,
  publishHzInFlight: 5,
  spool: null,
  statusFile: null,
  commandHmacKey: null,
  healthPort: null,
  healthHost: '127.0.0.1',
  publishJournal: null,
} as const satisfies Omit<AgentConfig, 'droneId'>;

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object | null ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]> | null) : T[K] };
export type AgentConfigInput = { droneId: string } & DeepPartial<Omit<AgentConfig, 'droneId'>>;

const fail = (field: string, why: string): never => {
  throw new AgentError('AGENT_ERR_CONFIG', `${field}: ${why}`);
};

function int(v: unknown, field: string, min: number, max: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(field, `must be an integer in ${min}–${max}, got ${JSON.stringify(v)}`);
}
function num(v: unknown, field: string, min: number, max: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) fail(field, `must be a number in ${min}–${max}, got ${JSON.stringify(v)}`);
}
function str(v: unknown, field: string, nonEmpty = false): void {
  if (typeof v !== 'string' || (nonEmpty && v.length === 0)) fail(field, `must be a${nonEmpty ? ' non-empty' : ''} string, got ${JSON.stringify(v)}`);
}
function oneOf(v: unknown, field: string, values: readonly unknown[]): void {
  if (!values.includes(v)) fail(field, `must be one of ${values.map((x) => JSON.stringify(x)).join(', ')}, got ${JSON.stringify(v)}`);
}
function optStr(v: unknown, field: string): void {
  if (v !== null) str(v, field, true);
}

function merge<T>(base: T, over: unknown): T {
  if (over === undefined) return base;
  if (over === null || typeof over !== 'object' || Array.isArray(over) || base === null || typeof base !== 'object') return over as T;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over as Record<string, unknown>)) out[k] = merge(out[k], v);
  return out as T;
}

/** Defaults of the optional sections, applied when a section is given at all. */
const SECTION_DEFAULTS = {
  signing: { linkId: 0, unsigned: 'reject' },
  record: { maxFileMb: 16, maxFiles: 20 },
  spool: { maxMb: 64, statusMaxAgeS: 3600, eventMaxAgeS: 7 * 86400 },
};

/** Merges input onto the defaults, validates every field (errors name it) and deep-freezes. */
export function agentConfig(input: AgentConfigInput): Readonly<AgentConfig> {
  const cfg = merge(structuredClone(defaultAgentConfig) as unknown as AgentConfig, input);
  if (cfg.fc.signing) cfg.fc.signing = { ...SECTION_DEFAULTS.signing, ...cfg.fc.signing };
  if (cfg.fc.record) cfg.fc.record = { ...SECTION_DEFAULTS.record, ...cfg.fc.record };
  if (cfg.spool) cfg.spool = { ...SECTION_DEFAULTS.spool, ...cfg.spool };
  validate(cfg);
  return deepFreeze(cfg);
}

function validate(c: AgentConfig): void {
  str(c.droneId, 'droneId');
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(c.droneId)) fail('droneId', `"${c.droneId}" is not a valid id (letters, digits, _ . -; up to 64)`);
  oneOf(c.fc.link, 'fc.link', ['udp', 'tcp', 'serial']);
  str(c.fc.host, 'fc.host', true);
  int(c.fc.port, 'fc.port', c.fc.link === 'tcp' ? 1 : 0, 65535);
  if (c.fc.peer !== null) {
    str(c.fc.peer.address, 'fc.peer.address', true);
    int(c.fc.peer.port, 'fc.peer.port', 1, 65535);
  }
  str(c.fc.device, 'fc.device', true);
  oneOf(c.fc.baudRate, 'fc.baudRate', [9600, 19200, 38400, 57600, 115200, 230400, 460800, 500000, 921600, 1500000]);
  int(c.fc.sysid, 'fc.sysid', 1, 255);
  int(c.fc.compid, 'fc.compid', 1, 255);
  oneOf(c.fc.mavlinkVersion, 'fc.mavlinkVersion', [1, 2]);
  int(c.fc.linkTimeoutMs, 'fc.linkTimeoutMs', 500, 60_000);
  int(c.fc.ackTimeoutMs, 'fc.ackTimeoutMs', 50, 30_000);
  num(c.fc.streamHz, 'fc.streamHz', 0, 50);
  if (c.fc.signing) {
    if (typeof c.fc.signing.key !== 'string' || !/^[0-9a-fA-F]{64}$/.test(c.fc.signing.key)) fail('fc.signing.key', 'must be 64 hex digits (the 32-byte secret key)');
    int(c.fc.signing.linkId, 'fc.signing.linkId', 0, 255);
    oneOf(c.fc.signing.unsigned, 'fc.signing.unsigned', ['accept', 'reject']);
    if (c.fc.mavlinkVersion !== 2) fail('fc.mavlinkVersion', 'must be 2 when fc.signing is set (MAVLink 1 cannot be signed)');
  }
  if (c.fc.record) {
    str(c.fc.record.dir, 'fc.record.dir', true);
    num(c.fc.record.maxFileMb, 'fc.record.maxFileMb', 0.0001, 4096);
    int(c.fc.record.maxFiles, 'fc.record.maxFiles', 1, 10_000);
  }
  str(c.mqtt.url, 'mqtt.url', true);
  if (!/^(mqtts?|wss?|tcp|tls):\/\/[^/]+/.test(c.mqtt.url)) fail('mqtt.url', `must be mqtt://HOST:PORT or mqtts://HOST:PORT, got "${c.mqtt.url}"`);
  str(c.mqtt.username, 'mqtt.username');
  str(c.mqtt.password, 'mqtt.password');
  optStr(c.mqtt.ca, 'mqtt.ca');
  optStr(c.mqtt.cert, 'mqtt.cert');
  optStr(c.mqtt.key, 'mqtt.key');
  if ((c.mqtt.cert === null) !== (c.mqtt.key === null)) fail('mqtt.key', 'mqtt.cert and mqtt.key go together');
  oneOf(c.uplink, 'uplink', ['mqtt', 'iothub']);
  if (c.uplink === 'iothub') validateIotHub(c);
  num(c.publishHz, 'publishHz', 0.1, 50);
  num(c.publishHzInFlight, 'publishHzInFlight', 0.1, 50);
  if (c.spool) {
    str(c.spool.dir, 'spool.dir', true);
    num(c.spool.maxMb, 'spool.maxMb', 0.01, 65_536);
    num(c.spool.statusMaxAgeS, 'spool.statusMaxAgeS', 1, 365 * 86400);
    num(c.spool.eventMaxAgeS, 'spool.eventMaxAgeS', 1, 365 * 86400);
  }
  optStr(c.statusFile, 'statusFile');
  if (c.healthPort !== null) int(c.healthPort, 'healthPort', 0, 65535);
  str(c.healthHost, 'healthHost', true);
  optStr(c.publishJournal, 'publishJournal');
  if (c.commandHmacKey !== null && (typeof c.commandHmacKey !== 'string' || !/^[0-9a-fA-F]{32,128}$/.test(c.commandHmacKey))) {
    fail('commandHmacKey', 'must be 32–128 hex digits');
  }
}

function validateIotHub(c: AgentConfig): void {
  str(c.iothub.connectionString, 'iothub.connectionString', true);
  const cs = parseIotConnectionString(c.iothub.connectionString);
  if (typeof cs === 'string') fail('iothub.connectionString', cs);
  else {
    if (cs.deviceId !== c.droneId) fail('iothub.connectionString', `DeviceId=${cs.deviceId} must equal droneId ${c.droneId}`);
    if (cs.x509 && (c.iothub.cert === null || c.iothub.key === null)) fail('iothub.cert', 'x509=true needs iothub.cert and iothub.key');
  }
  optStr(c.iothub.ca, 'iothub.ca');
  optStr(c.iothub.cert, 'iothub.cert');
  optStr(c.iothub.key, 'iothub.key');
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') for (const v of Object.values(o)) deepFreeze(v);
  return Object.freeze(o);
}
