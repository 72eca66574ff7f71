import { systemClock, type Clock } from '@aerie/contracts';
import type { UdpPeer } from '@aerie/mavlink';
import { Vehicle } from './domain/vehicle.js';
import type { BatteryParams, PhysicsParams } from './domain/physics.js';
import type { HomePosition, VehicleFaults, VehicleSnapshot } from './domain/types.js';
import type { MissionTransferStats } from './domain/mission-transfer.js';
import { SimError } from './errors.js';
import type { TelemetryStream, VehicleLink, VehicleLinkStats } from './ports.js';
import { openUdpVehicleLink } from './adapters/udp-link.js';
import { SimScheduler } from './domain/scheduler.js';
import type { VehicleInput } from './domain/types.js';

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
const HEARTBEAT_MS = 1000;
const FAST_STREAMS: readonly TelemetryStream[] = ['global-position', 'sys-status', 'gps-raw', 'vfr-hud', 'extended-sys-state', 'mission-current'];

export interface SimVehicleOptions {
  /** MAVLink system id, 1–254. */
  sysid: number;
  home: HomePosition;
  clock?: Clock;
  /** Local address to bind (127.0.0.1). */
  host?: string;
  /** Local UDP port; 0 (default) picks an ephemeral one. */
  port?: number;
  /** Fixed ground-station address; null or absent replies to whoever sent last. */
  peer?: UdpPeer | null;
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
}

export interface SimVehicle {
  readonly sysid: number;
  /** The UDP port the vehicle listens on (0 for in-memory links). */
  readonly port: number;
  snapshot(): VehicleSnapshot;
  setFault(faults: Partial<VehicleFaults>): void;
  stats(): { link: VehicleLinkStats; mission: Readonly<MissionTransferStats> };
  /** Delivers an input as if it had come from the ground station (tests, harness, benchmark). */
  inject(input: VehicleInput): void;
  /** Stops every timer and closes the link; safe to call twice. */
  stop(): Promise<void>;
}

/** Starts one simulated vehicle speaking MAVLink 2 on its own UDP port. */
export async function startSimVehicle(opts: SimVehicleOptions): Promise<SimVehicle> {
  validateOptions(opts);
  const link = await openUdpVehicleLink({ sysid: opts.sysid, host: opts.host, port: opts.port ?? 0, peer: opts.peer ?? null });
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
  });
  link.onInput((input) => vehicle.handle(input));

  const heartbeat = (): void => {
    const s = vehicle.snapshot();
    link.sendTelemetry('heartbeat', s);
    link.sendTelemetry('home-position', s);
  };
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
  const streamMs = 1000 / (opts.streamHz ?? 4);
  let nextHeartbeat = start + HEARTBEAT_MS;
  let nextStream = start + streamMs;
  // Like setInterval: a period missed entirely (a stalled loop) is skipped, not sent twice.
  const after = (due: number, period: number, now: number): number => (due + period > now ? due + period : now + period);
  // A message falls due on the tick nearest its due time, not the first one after it: ticks
  // jitter by a millisecond either way, and at 10 Hz on 100 ms ticks a tick a hair early would
  // otherwise skip a period.
  const scheduler = opts.scheduler ?? schedulerFor(clock);
  const slack = scheduler.tickMs / 2;
  const tick = (now: number): void => {
    integrate(now);
    if (now + slack >= nextHeartbeat) {
      heartbeat();
      nextHeartbeat = after(nextHeartbeat, HEARTBEAT_MS, now);
    }
    if (now + slack >= nextStream) {
      const s = vehicle.snapshot();
      for (const name of FAST_STREAMS) link.sendTelemetry(name, s);
      nextStream = after(nextStream, streamMs, now);
    }
    link.flush?.();
  };

  heartbeat();
  link.flush?.();
  const unschedule = scheduler.add(tick);
  let stopping: Promise<void> | null = null;

  return {
    sysid: opts.sysid,
    port: link.port,
    snapshot: () => vehicle.snapshot(),
    setFault: (faults) => vehicle.setFaults(faults),
    stats: () => ({ link: link.stats(), mission: vehicle.transferStats }),
    inject: (input) => vehicle.handle(input),
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
}
