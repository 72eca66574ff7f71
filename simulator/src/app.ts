import { systemClock, type Clock } from '@aerie/contracts';
import type { UdpPeer } from '@aerie/mavlink';
import { Vehicle } from './domain/vehicle.js';
import type { BatteryParams, PhysicsParams } from './domain/physics.js';
import type { HomePosition, VehicleFaults, VehicleSnapshot } from './domain/types.js';
import type { MissionTransferStats } from './domain/mission-transfer.js';
import { SimError } from './errors.js';
import type { LinkImpairment, VehicleLink, VehicleLinkStats } from './ports.js';
import { openUdpVehicleLink } from './adapters/udp-link.js';
import { openTcpVehicleLink } from './adapters/tcp-link.js';
import { SimScheduler } from './domain/scheduler.js';
import type { TelemetryStream, VehicleInput } from './domain/types.js';
import type { PersonalityName } from './domain/personality.js';
import type { WindParams } from './domain/wind.js';
import { Rng, seedFor } from './domain/random.js';

/** Physics integrates at a fixed 100 ms of simulated time. */
const PHYSICS_DT_MS = 100;
/** At most this many physics steps per timer tick; a longer stall is dropped, not replayed. */
const MAX_CATCH_UP_STEPS = 50;
/** Vehicles on one clock share one scheduler (one timer for the fleet) unless given their own. */
const sharedSchedulers = new WeakMap<Clock, SimScheduler>();

/** The scheduler every vehicle on `clock` uses by default. */
export function schedulerFor(clock: Clock): SimScheduler {
  let s = sharedSchedulers.get(clock);
  if (!s) sharedSchedulers.set(clock, (s = new SimScheduler(clock, { tickMs: PHYSICS_DT_MS })));
  return s;
}

export interface SimVehicleOptions {
  /** MAVLink system id, 1–254. */
  sysid: number;
  home: HomePosition;
  clock?: Clock;
  /** Local address to bind (127.0.0.1). */
  host?: string;
  /** Local UDP (or TCP) port; 0 (default) picks an ephemeral one. */
  port?: number;
  /**
   * 'udp' (default): one socket, sending to `peer` or to whoever sent last. 'tcp': a server on
   * `port`, as ArduPilot SITL serves tcp:5760, streaming to the one client connected.
   */
  transport?: 'udp' | 'tcp';
  /** Fixed ground-station address (UDP only); null or absent replies to whoever sent last. */
  peer?: UdpPeer | null;
  /**
   * MAVLink 2 signing: every outgoing packet is signed with this 32-byte key (Mission Planner and
   * MAVProxy derive it as SHA-256 of a passphrase: signingKeyFromPassphrase) and link id (0).
   */
  signing?: { key: Buffer; linkId?: number } | null;
  /** Horizontal cruise speed, m/s (12). */
  cruiseSpeedMs?: number;
  /** Rate of the position/status streams, Hz (4); HEARTBEAT stays at 1 Hz. */
  streamHz?: number;
  physics?: Partial<PhysicsParams>;
  battery?: Partial<BatteryParams>;
  /** RTL altitude, m above home (30). */
  rtlAltM?: number;
  /** Drives physics and streams; by default one shared by every vehicle on the same clock. */
  scheduler?: SimScheduler;
  /** 'px4' (default) or 'ardupilot'. */
  personality?: PersonalityName;
  /** Seeds gusts, GPS noise and link corruption. */
  seed?: number;
  wind?: Partial<WindParams>;
  payloadKg?: number;
  /** Parameter values at boot, by the personality's names (e.g. FS_GCS_ENABLE). */
  params?: Readonly<Record<string, number>>;
  gps?: { satellites?: number; hdop?: number; noiseM?: number };
}

export type FaultKind = 'link-drop' | 'gps-loss' | 'battery-sag' | 'motor-failure' | 'corrupt-bytes' | 'stuck';

export interface FaultSpec {
  kind: FaultKind;
  /** true starts the fault, false ends it. */
  active: boolean;
  /** battery-sag: percentage points lost (30). */
  pct?: number;
  /** corrupt-bytes: share of datagrams with a byte flipped (0.1). */
  rate?: number;
}

/** HEARTBEAT and HOME_POSITION at 1 Hz, the position and status set at `hz`. */
function streamPeriods(hz: number): Partial<Record<TelemetryStream, number>> {
  const fast = 1000 / hz;
  return {
    'heartbeat': 1000, 'home-position': 1000, 'global-position': fast, 'sys-status': fast, 'gps-raw': fast,
    'vfr-hud': fast, 'extended-sys-state': fast, 'mission-current': fast,
  };
}

export interface SimVehicle {
  readonly sysid: number;
  /** The UDP or TCP port the vehicle listens on (0 for in-memory links). */
  readonly port: number;
  snapshot(): VehicleSnapshot;
  setFault(faults: Partial<VehicleFaults>): void;
  stats(): { link: VehicleLinkStats; mission: Readonly<MissionTransferStats> };
  /** Delivers an input as if it had come from the ground station (tests, harness, benchmark). */
  inject(input: VehicleInput): void;
  /** Starts (active) or ends a fault; battery-sag acts once. */
  injectFault(fault: FaultSpec): void;
  /** Stops every timer and closes the link; safe to call twice. */
  stop(): Promise<void>;
}

/** Starts one simulated vehicle speaking MAVLink 2 on its own UDP port (or TCP server). */
export async function startSimVehicle(opts: SimVehicleOptions): Promise<SimVehicle> {
  validateOptions(opts);
  const signing = opts.signing ? { key: opts.signing.key, linkId: opts.signing.linkId ?? 0 } : null;
  const link = opts.transport === 'tcp'
    ? await openTcpVehicleLink({ sysid: opts.sysid, host: opts.host, port: opts.port ?? 0, signing })
    : await openUdpVehicleLink({ sysid: opts.sysid, host: opts.host, port: opts.port ?? 0, peer: opts.peer ?? null, signing });
  return runVehicle(link, opts);
}

/** Wires a vehicle to a link and drives it on the clock: physics, heartbeat and streams. */
export function runVehicle(link: VehicleLink, opts: SimVehicleOptions): SimVehicle {
  validateOptions(opts);
  const clock = opts.clock ?? systemClock;
  const vehicle = new Vehicle({
    sysid: opts.sysid,
    home: opts.home,
    clock,
    emit: (out) => link.sendEvent(out),
    physics: { ...opts.physics, ...(opts.cruiseSpeedMs !== undefined ? { cruiseSpeedMs: opts.cruiseSpeedMs } : {}) },
    battery: opts.battery,
    rtlAltM: opts.rtlAltM,
    personality: opts.personality,
    seed: opts.seed,
    wind: opts.wind,
    payloadKg: opts.payloadKg,
    params: opts.params,
    gps: opts.gps,
    streamPeriodsMs: streamPeriods(opts.streamHz ?? 4),
  });
  const impairment: LinkImpairment = { down: false, corruptRate: 0 };
  link.impair?.(impairment, new Rng(seedFor(opts.seed ?? 0, opts.sysid + 1000)));
  link.onInput((input) => {
    if (!impairment.down) vehicle.handle(input);
  });

  const start = clock.now();
  let simulatedMs = start;
  const integrate = (now: number): void => {
    let steps = 0;
    while (now - simulatedMs >= PHYSICS_DT_MS && steps < MAX_CATCH_UP_STEPS) {
      vehicle.step(PHYSICS_DT_MS / 1000);
      simulatedMs += PHYSICS_DT_MS;
      steps += 1;
    }
    if (steps === MAX_CATCH_UP_STEPS) simulatedMs = now;
  };
  const sendStreams = (due: readonly TelemetryStream[]): void => {
    if (due.length === 0 || impairment.down) return;
    const s = vehicle.snapshot();
    for (const name of due) link.sendTelemetry(name, s);
    link.flush?.();
  };
  const scheduler = opts.scheduler ?? schedulerFor(clock);
  const slack = scheduler.tickMs / 2;
  const tick = (now: number): void => {
    integrate(now);
    sendStreams(vehicle.streams.due(now, slack));
  };

  sendStreams(['heartbeat', 'home-position']);
  const unschedule = scheduler.add(tick);
  let stopping: Promise<void> | null = null;

  return {
    sysid: opts.sysid,
    port: link.port,
    snapshot: () => vehicle.snapshot(),
    setFault: (faults) => vehicle.setFaults(faults),
    inject: (input) => vehicle.handle(input),
    injectFault: (fault) => {
      switch (fault.kind) {
        case 'link-drop': impairment.down = fault.active; break;
        case 'corrupt-bytes': impairment.corruptRate = fault.active ? (fault.rate ?? 0.1) : 0; break;
        case 'gps-loss': vehicle.setFaults({ gpsNoFix: fault.active }); break;
        case 'motor-failure': vehicle.setFaults({ motorFailure: fault.active }); break;
        case 'stuck': vehicle.setFaults({ stuck: fault.active }); break;
        case 'battery-sag': if (fault.active) vehicle.sagBattery(fault.pct ?? 30); break;
      }
    },
    stats: () => ({ link: link.stats(), mission: vehicle.transferStats }),
    stop: () => {
      stopping ??= (async () => {
        unschedule();
        vehicle.dispose();
        await link.close();
      })();
      return stopping;
    },
  };
}

function validateOptions(opts: SimVehicleOptions): void {
  const bad = (what: string): never => {
    throw new SimError('SIM_ERR_OPTIONS', `vehicle ${opts.sysid}: ${what}`);
  };
  if (!Number.isInteger(opts.sysid) || opts.sysid < 1 || opts.sysid > 254) bad('sysid must be an integer 1–254');
  const { lat, lon, altMsl } = opts.home;
  if (!(Math.abs(lat) <= 90) || !(Math.abs(lon) <= 180) || !Number.isFinite(altMsl)) bad('home must be a valid lat/lon/altMsl');
  if (opts.cruiseSpeedMs !== undefined && !(opts.cruiseSpeedMs > 0 && opts.cruiseSpeedMs <= 40)) bad('cruiseSpeedMs must be in (0, 40]');
  if (opts.streamHz !== undefined && !(opts.streamHz > 0 && opts.streamHz <= 50)) bad('streamHz must be in (0, 50]');
  if (opts.port !== undefined && !(Number.isInteger(opts.port) && opts.port >= 0 && opts.port <= 65535)) bad('port must be 0–65535');
  if (opts.transport !== undefined && opts.transport !== 'udp' && opts.transport !== 'tcp') bad("transport must be 'udp' or 'tcp'");
  if (opts.signing) {
    if (opts.signing.key.length !== 32) bad('signing.key must be 32 bytes');
    const id = opts.signing.linkId;
    if (id !== undefined && !(Number.isInteger(id) && id >= 0 && id <= 255)) bad('signing.linkId must be 0–255');
  }
}
