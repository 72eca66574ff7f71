import { parseArgs } from 'node:util';
import type { Clock } from '@aerie/contracts';
import { signingKeyFromPassphrase } from '@aerie/mavlink';
import type { HomePosition } from './domain/types.js';
import type { SimFleetOptions } from './fleet.js';
import { SimError } from './errors.js';

export interface SimConfig {
  drones: number;
  /** Address the vehicles bind. */
  host: string;
  /** Vehicle i (0-based) binds portBase + i; 0 gives each an ephemeral port. */
  portBase: number;
  /** 'udp', or 'tcp': each vehicle a TCP server on its port (ArduPilot SITL's tcp:5760). */
  transport: 'udp' | 'tcp';
  /** MAVLink 2 signing key (SHA-256 of --signing-passphrase); null sends unsigned. */
  signingKey: Buffer | null;
  gcsHost: string;
  /** Vehicle i sends to gcsPortBase + i; 0 means no fixed peer (reply to whoever sent last). */
  gcsPortBase: number;
  home: HomePosition;
  /** Simulated seconds per real second. */
  speedup: number;
  cruiseSpeedMs: number;
  streamHz: number;
  spacingM: number;
  /** Scenario file (YAML or JSON); null: a plain fleet of `drones`. */
  scenario: string | null;
  /** Whether --drones was given (it then overrides the scenario's fleet size). */
  dronesGiven: boolean;
  personality: 'px4' | 'ardupilot' | null;
  seed: number | null;
  /** Live terminal table (default on a TTY); off prints one line every 5 s. */
  table: boolean | null;
  /** delivery-core base URL the scenario's delivery requests are PUT to; null prints them. */
  coreUrl: string | null;
}

/** PX4 SITL's default home (Zürich, 488 m AMSL); five drones in real time. */
export const DEFAULT_CONFIG: Readonly<SimConfig> = Object.freeze({
  drones: 5,
  host: '127.0.0.1',
  portBase: 0,
  transport: 'udp',
  signingKey: null,
  gcsHost: '127.0.0.1',
  gcsPortBase: 14550,
  home: Object.freeze({ lat: 47.3977, lon: 8.5456, altMsl: 488 }),
  speedup: 1,
  cruiseSpeedMs: 12,
  streamHz: 4,
  spacingM: 5,
  scenario: null,
  dronesGiven: false,
  personality: null,
  seed: null,
  table: null,
  coreUrl: null,
});

export const USAGE = `Usage: aerie-sim [options]
  --drones N          vehicles to start, sysids 1..N (${DEFAULT_CONFIG.drones})
  --host ADDR         address the vehicles bind (${DEFAULT_CONFIG.host})
  --port-base P       vehicle i (0-based) binds P+i; 0 = ephemeral (${DEFAULT_CONFIG.portBase})
  --transport T       udp, or tcp: each vehicle a TCP server on its port, as SITL's tcp:5760 (${DEFAULT_CONFIG.transport})
  --signing-passphrase P  sign everything sent (MAVLink 2), key = SHA-256(P) as Mission Planner/MAVProxy
  --gcs-host ADDR     ground station / edge agent address (${DEFAULT_CONFIG.gcsHost})
  --gcs-port-base P   vehicle i sends to P+i; 0 = reply to whoever sent last (${DEFAULT_CONFIG.gcsPortBase}; UDP only)
  --lat DEG --lon DEG home of the fleet (${DEFAULT_CONFIG.home.lat}, ${DEFAULT_CONFIG.home.lon}); negative as --lat=-33.9
  --alt M             home altitude AMSL, m (${DEFAULT_CONFIG.home.altMsl})
  --speedup X         simulated seconds per real second (${DEFAULT_CONFIG.speedup})
  --cruise M/S        cruise speed (${DEFAULT_CONFIG.cruiseSpeedMs})
  --stream-hz HZ      telemetry stream rate (${DEFAULT_CONFIG.streamHz})
  --spacing M         distance between homes (${DEFAULT_CONFIG.spacingM})
  --scenario FILE     scenario (YAML or JSON): airframes, homes, fleet, wind, faults, deliveries
  --personality P     px4 or ardupilot (px4, or the scenario's)
  --seed N            seed for gusts, GPS noise and corruption (1, or the scenario's)
  --core-url URL      PUT the scenario's delivery requests to delivery-core at URL
  --table / --no-table  live terminal table (default: on a terminal)
  --help              print this help`;

const OPTIONS = {
  drones: { type: 'string' }, host: { type: 'string' }, 'port-base': { type: 'string' }, 'gcs-host': { type: 'string' },
  transport: { type: 'string' }, 'signing-passphrase': { type: 'string' },
  'gcs-port-base': { type: 'string' }, lat: { type: 'string' }, lon: { type: 'string' }, alt: { type: 'string' },
  speedup: { type: 'string' }, cruise: { type: 'string' }, 'stream-hz': { type: 'string' }, spacing: { type: 'string' },
  scenario: { type: 'string' }, personality: { type: 'string' }, seed: { type: 'string' },
  table: { type: 'boolean' }, 'no-table': { type: 'boolean' }, 'core-url': { type: 'string' },
  help: { type: 'boolean' },
} as const;

const fail = (message: string): never => {
  throw new SimError('SIM_ERR_CONFIG', message);
};

function num(flag: string, raw: string | undefined, fallback: number, ok: (x: number) => boolean, rule: string): number {
  if (raw === undefined) return fallback;
  const x = raw.trim() === '' ? Number.NaN : Number(raw);
  return ok(x) ? x : fail(`--${flag} must be ${rule}, got '${raw}'`);
}

const isInt = (lo: number, hi: number) => (x: number): boolean => Number.isInteger(x) && x >= lo && x <= hi;
const inRange = (lo: number, hi: number) => (x: number): boolean => Number.isFinite(x) && x > lo && x <= hi;

/** Parses and validates the command line; 'help' when --help was asked for. */
export function parseConfig(argv: readonly string[]): Readonly<SimConfig> | 'help' {
  let values: Partial<Record<keyof typeof OPTIONS, string | boolean>>;
  try {
    ({ values } = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (err) {
    return fail((err as Error).message);
  }
  if (values.help === true) return 'help';
  const s = (k: keyof typeof OPTIONS): string | undefined => (typeof values[k] === 'string' ? values[k] : undefined);
  const d = DEFAULT_CONFIG;
  const drones = num('drones', s('drones'), d.drones, isInt(1, 5000), 'an integer 1–5000');
  const personality = s('personality') ?? null;
  if (personality !== null && personality !== 'px4' && personality !== 'ardupilot') fail(`--personality must be px4 or ardupilot, got '${personality}'`);
  const transport = s('transport') ?? d.transport;
  if (transport !== 'udp' && transport !== 'tcp') fail(`--transport must be udp or tcp, got '${transport}'`);
  const passphrase = s('signing-passphrase');
  if (passphrase === '') fail('--signing-passphrase must not be empty');
  const portBase = num('port-base', s('port-base'), d.portBase, isInt(0, 65535 - drones + 1), `0 or a port such that port+${drones - 1} ≤ 65535`);
  const gcsPortBase = num('gcs-port-base', s('gcs-port-base'), d.gcsPortBase, isInt(0, 65535 - drones + 1), `0 or a port such that port+${drones - 1} ≤ 65535`);
  const config: SimConfig = {
    drones,
    host: s('host') ?? d.host,
    portBase,
    transport: transport as SimConfig['transport'],
    signingKey: passphrase === undefined ? null : signingKeyFromPassphrase(passphrase),
    gcsHost: s('gcs-host') ?? d.gcsHost,
    gcsPortBase,
    home: {
      lat: num('lat', s('lat'), d.home.lat, (x) => Math.abs(x) <= 85, 'a latitude in [-85, 85]'),
      lon: num('lon', s('lon'), d.home.lon, (x) => Math.abs(x) <= 180, 'a longitude in [-180, 180]'),
      altMsl: num('alt', s('alt'), d.home.altMsl, (x) => Number.isFinite(x) && Math.abs(x) < 9000, 'an altitude in metres'),
    },
    speedup: num('speedup', s('speedup'), d.speedup, inRange(0, 1000), 'a number in (0, 1000]'),
    cruiseSpeedMs: num('cruise', s('cruise'), d.cruiseSpeedMs, inRange(0, 40), 'a speed in (0, 40] m/s'),
    streamHz: num('stream-hz', s('stream-hz'), d.streamHz, inRange(0, 50), 'a rate in (0, 50] Hz'),
    spacingM: num('spacing', s('spacing'), d.spacingM, inRange(0, 10_000), 'a distance in (0, 10000] m'),
    scenario: s('scenario') ?? null,
    dronesGiven: s('drones') !== undefined,
    personality: personality as SimConfig['personality'],
    seed: s('seed') === undefined ? null : num('seed', s('seed'), 1, isInt(0, 2 ** 32 - 1), 'an integer ≥ 0'),
    table: values['no-table'] === true ? false : values.table === true ? true : null,
    coreUrl: s('core-url') ?? null,
  };
  if (config.coreUrl !== null && !/^https?:\/\/[^/]/.test(config.coreUrl)) fail(`--core-url must be an http(s) URL, got '${config.coreUrl}'`);
  if (config.host.trim() === '') fail('--host must not be empty');
  if (config.gcsHost.trim() === '') fail('--gcs-host must not be empty');
  return Object.freeze({ ...config, home: Object.freeze(config.home) });
}

/** The fleet this configuration describes, on `clock`. */
export function fleetOptions(config: Readonly<SimConfig>, clock: Clock): SimFleetOptions {
  return {
    count: config.drones,
    home: config.home,
    spacingM: config.spacingM,
    clock,
    host: config.host,
    portFor: (i) => (config.portBase === 0 ? 0 : config.portBase + i),
    transport: config.transport,
    signing: config.signingKey ? { key: config.signingKey } : null,
    peerFor: (i) => (config.gcsPortBase === 0 ? null : { address: config.gcsHost, port: config.gcsPortBase + i }),
    cruiseSpeedMs: config.cruiseSpeedMs,
    streamHz: config.streamHz,
  };
}
