import type { Clock } from '@aerie/contracts';
import type { UdpPeer } from '@aerie/mavlink';
import { startSimVehicle, type FaultKind, type FaultSpec, type SimVehicle } from './app.js';
import { gridHomes } from './fleet.js';
import { WarpClock } from './domain/warp-clock.js';
import { SimScheduler } from './domain/scheduler.js';
import { seedFor } from './domain/random.js';
import type { HomePosition, VehicleInput, VehicleSnapshot } from './domain/types.js';
import type { PersonalityName } from './domain/personality.js';
import { DEFAULT_AIRFRAME, faultTimeline, type DeliveryRequest, type Scenario } from './scenario.js';
import { SimError } from './errors.js';

export interface StartFleetOptions {
  /** Fleet size when there is no scenario (3). */
  drones?: number;
  scenario?: Scenario;
  /** Simulated seconds per real second (50 for tests; 1 is real time). */
  speedup?: number;
  /** A clock of your own instead (a ManualClock for fully stepped tests). */
  clock?: Clock;
  personality?: PersonalityName;
  seed?: number;
  home?: HomePosition;
  /** Fixed ground-station peer of drone n (1-based); null: reply to whoever sent last. */
  peerFor?: (n: number) => UdpPeer | null;
  /** Local UDP (or TCP) port of drone n; 0 (default) ephemeral. */
  portFor?: (n: number) => number;
  /** 'udp' (default) or 'tcp' (a server per drone, as ArduPilot SITL's tcp:5760). */
  transport?: 'udp' | 'tcp';
  /** MAVLink 2 signing of everything the drones send (a 32-byte key; link id 0 unless given). */
  signing?: { key: Buffer; linkId?: number } | null;
  host?: string;
  streamHz?: number;
  /** Parameters for every drone (a scenario's come first, these win). */
  params?: Readonly<Record<string, number>>;
  /** Called when the scenario's delivery requests fall due (the CLI PUTs them to delivery-core). */
  onDelivery?: (request: DeliveryRequest) => void;
  /** Called for every fault applied, scheduled or injected. */
  onFault?: (drone: number, fault: FaultSpec) => void;
}

export interface Drone {
  /** 1-based position in the fleet. */
  readonly n: number;
  readonly sysid: number;
  readonly port: number;
  readonly vehicle: SimVehicle;
  snapshot(): VehicleSnapshot & { landed: boolean; flying: boolean };
  /**
   * Resolves with the first snapshot for which `pred` holds, checked on every physics tick;
   * rejects with SIM_ERR_TIMEOUT after `timeoutMs` of real time (10 s).
   */
  waitFor(pred: (s: VehicleSnapshot & { landed: boolean; flying: boolean }) => boolean, opts?: { timeoutMs?: number }): Promise<VehicleSnapshot>;
  /** Starts a fault now; with durationS it ends by itself after that much simulated time. */
  fault(kind: FaultKind, opts?: { durationS?: number; pct?: number; rate?: number }): void;
  clearFault(kind: FaultKind): void;
  /** A MAVLink-shaped input as if from the ground station (sysid 255). */
  inject(input: DistributiveOmit<VehicleInput, 'from' | 'targetSystem'> & { targetSystem?: number }): void;
}

export interface Fleet {
  readonly clock: Clock;
  readonly size: number;
  readonly drones: readonly Drone[];
  /** Drone n, 1-based (drone(3) is sysid 3 in fleets of up to 254). */
  drone(n: number): Drone;
  /** Faults applied so far, scheduled and injected. */
  readonly faultsInjected: number;
  stop(): Promise<void>;
}

const GCS = { sysid: 255, compid: 190 };

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Starts a fleet for a test or the CLI: scenario or plain, with fault injection and teardown. */
export async function startFleet(opts: StartFleetOptions = {}): Promise<Fleet> {
  const sc = opts.scenario;
  const clock = opts.clock ?? new WarpClock({ speedup: opts.speedup ?? 50 });
  const speedup = clock instanceof WarpClock ? clock.speedup : 1;
  // Ten slots in real time smooth the send bursts; under warp they would fall under the 1 ms timer floor.
  const scheduler = new SimScheduler(clock, { tickMs: 100, slots: speedup <= 1 ? 10 : 1 });
  const home = opts.home ?? { lat: 47.3977, lon: 8.5456, altMsl: 488 };
  const seed = opts.seed ?? sc?.seed ?? 1;
  const plan = sc
    ? sc.fleet.flatMap((g) => gridHomes(g.count, sc.homes[g.home]!, 5).map((h) => ({ home: h, airframe: sc.airframes[g.airframe]! })))
    : gridHomes(opts.drones ?? 3, home, 5).map((h) => ({ home: h, airframe: DEFAULT_AIRFRAME }));
  const vehicles: SimVehicle[] = [];
  let faultsInjected = 0;
  const timers = new Set<unknown>();
  const later = (ms: number, fn: () => void): void => {
    const t = clock.setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };
  const stop = async (): Promise<void> => {
    for (const t of timers) clock.clearTimeout(t);
    timers.clear();
    await Promise.all(vehicles.map((v) => v.stop()));
  };
  try {
    for (const [i, p] of plan.entries()) {
      const n = i + 1;
      vehicles.push(await startSimVehicle({
        sysid: (i % 254) + 1, home: p.home, clock, scheduler, host: opts.host, port: opts.portFor?.(n) ?? 0, peer: opts.peerFor?.(n) ?? null,
        transport: opts.transport, signing: opts.signing,
        personality: opts.personality ?? sc?.personality, seed: seedFor(seed, i), streamHz: opts.streamHz,
        physics: { cruiseSpeedMs: p.airframe.cruiseSpeedMs, maxAirspeedMs: p.airframe.maxAirspeedMs },
        battery: { massKg: p.airframe.massKg, capacityWh: p.airframe.capacityWh, hoverPowerW: p.airframe.hoverPowerW, powerPerMsW: p.airframe.powerPerMsW },
        payloadKg: p.airframe.payloadKg, wind: sc?.wind, gps: sc?.gps, params: { ...sc?.params, ...opts.params },
      }));
    }
  } catch (err) {
    await stop();
    throw err;
  }

  const apply = (n: number, fault: FaultSpec): void => {
    const v = vehicles[n - 1];
    if (!v) throw new SimError('SIM_ERR_OPTIONS', `no drone ${n} in a fleet of ${vehicles.length}`);
    faultsInjected += 1;
    v.injectFault(fault);
    opts.onFault?.(n, fault);
  };
  const view = (v: SimVehicle): VehicleSnapshot & { landed: boolean; flying: boolean } => {
    const s = v.snapshot();
    return { ...s, landed: s.landedState === 1, flying: s.landedState !== 1 };
  };
  const drones = vehicles.map((v, i): Drone => ({
    n: i + 1,
    sysid: v.sysid,
    port: v.port,
    vehicle: v,
    snapshot: () => view(v),
    waitFor: (pred, o) => new Promise((resolve, reject) => {
      const check = (): boolean => {
        const s = view(v);
        if (!pred(s)) return false;
        clock.clearInterval(poll);
        clearTimeout(timeout);
        resolve(s);
        return true;
      };
      const poll = clock.setInterval(check, 100);
      const timeout = setTimeout(() => {
        clock.clearInterval(poll);
        reject(new SimError('SIM_ERR_TIMEOUT', `drone ${i + 1}: condition not met within ${o?.timeoutMs ?? 10_000} ms (mode ${v.snapshot().modeName})`));
      }, o?.timeoutMs ?? 10_000);
      check();
    }),
    fault: (kind, o) => {
      apply(i + 1, { kind, active: true, ...o });
      if (o?.durationS !== undefined && kind !== 'battery-sag') later(o.durationS * 1000, () => apply(i + 1, { kind, active: false }));
    },
    clearFault: (kind) => apply(i + 1, { kind, active: false }),
    inject: (input) => v.inject({ from: GCS, targetSystem: v.sysid, ...input }),
  }));

  // The scenario's schedule, on the simulation clock: the same seed and file replay the same run.
  for (const e of faultTimeline(sc?.faults ?? [])) {
    later(e.atS * 1000, () => apply(e.fault.drone, { kind: e.fault.kind, active: e.active, pct: e.fault.pct, rate: e.fault.rate }));
  }
  for (const d of sc?.deliveries ?? []) later(d.at * 1000, () => opts.onDelivery?.(d));

  return {
    clock,
    size: drones.length,
    drones,
    drone: (n) => {
      const d = drones[n - 1];
      if (!d) throw new SimError('SIM_ERR_OPTIONS', `no drone ${n} in a fleet of ${drones.length}`);
      return d;
    },
    get faultsInjected() {
      return faultsInjected;
    },
    stop,
  };
}
