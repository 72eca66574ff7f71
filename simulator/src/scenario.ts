import { parse as parseYaml } from 'yaml';
import { SimError } from './errors.js';
import type { FaultKind } from './app.js';
import type { HomePosition } from './domain/types.js';
import type { WindParams } from './domain/wind.js';
import type { PersonalityName } from './domain/personality.js';

/** An airframe: flight envelope and the energy model's figures. */
export interface Airframe {
  cruiseSpeedMs: number;
  maxAirspeedMs: number;
  massKg: number;
  capacityWh: number;
  hoverPowerW: number;
  powerPerMsW: number;
  /** Payload on the gripper at boot, kg. */
  payloadKg: number;
}

export interface ScheduledFault {
  /** Simulated seconds after the fleet starts. */
  at: number;
  /** 1-based position in the fleet (the sysid for fleets of up to 254). */
  drone: number;
  kind: FaultKind;
  /** Ends the fault after this long; absent: it lasts (battery-sag acts once). */
  durationS?: number;
  pct?: number;
  rate?: number;
}

export interface DeliveryRequest {
  at: number;
  id: string;
  pickup: { lat: number; lon: number };
  dropoff: { lat: number; lon: number };
}

export interface FleetGroup {
  count: number;
  airframe: string;
  home: string;
}

export interface Scenario {
  seed: number;
  personality: PersonalityName;
  airframes: Record<string, Airframe>;
  homes: Record<string, HomePosition>;
  fleet: FleetGroup[];
  wind: WindParams;
  gps: { noiseM: number; satellites: number; hdop: number };
  params: Record<string, number>;
  faults: ScheduledFault[];
  deliveries: DeliveryRequest[];
}

export const DEFAULT_AIRFRAME: Readonly<Airframe> = Object.freeze({
  cruiseSpeedMs: 12, maxAirspeedMs: 16, massKg: 2, capacityWh: 500, hoverPowerW: 400, powerPerMsW: 26.7, payloadKg: 0,
});

const FAULT_KINDS: readonly FaultKind[] = ['link-drop', 'gps-loss', 'battery-sag', 'motor-failure', 'corrupt-bytes', 'stuck'];

type Obj = Record<string, unknown>;

/** Reads fields off one object, naming the path of any that is wrong; rejects unknown fields. */
class Fields {
  private readonly seen = new Set<string>();

  constructor(private readonly o: Obj, readonly path: string) {}

  static of(v: unknown, path: string): Fields {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, 'must be an object');
    return new Fields(v as Obj, path);
  }

  has(k: string): boolean {
    return this.o[k] !== undefined;
  }

  raw(k: string): unknown {
    this.seen.add(k);
    return this.o[k];
  }

  num(k: string, lo: number, hi: number, fallback?: number): number {
    const v = this.raw(k);
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) fail(`${this.path}.${k}`, `must be a number in [${lo}, ${hi}]`, v);
    return v;
  }

  int(k: string, lo: number, hi: number, fallback?: number): number {
    const v = this.num(k, lo, hi, fallback);
    if (!Number.isInteger(v)) fail(`${this.path}.${k}`, 'must be an integer', v);
    return v;
  }

  str(k: string, fallback?: string): string {
    const v = this.raw(k);
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'string' || v === '') fail(`${this.path}.${k}`, 'must be a non-empty string', v);
    return v;
  }

  oneOf<T extends string>(k: string, allowed: readonly T[], fallback?: T): T {
    const v = this.raw(k);
    if (v === undefined && fallback !== undefined) return fallback;
    if (!allowed.includes(v as T)) fail(`${this.path}.${k}`, `must be one of ${allowed.join(', ')}`, v);
    return v as T;
  }

  list(k: string): unknown[] {
    const v = this.raw(k);
    if (v === undefined) return [];
    if (!Array.isArray(v)) fail(`${this.path}.${k}`, 'must be a list', v);
    return v;
  }

  /** Call last: any field not read is a typo or a field this version does not know. */
  done(): void {
    for (const k of Object.keys(this.o)) if (!this.seen.has(k)) fail(`${this.path}.${k}`, 'is not a known field');
  }
}

function fail(path: string, rule: string, got?: unknown): never {
  const shown = got === undefined ? '' : `, got ${JSON.stringify(got)}`;
  throw new SimError('SIM_ERR_SCENARIO', `${path}: ${rule}${shown}`);
}

const latLon = (f: Fields): { lat: number; lon: number } => ({ lat: f.num('lat', -85, 85), lon: f.num('lon', -180, 180) });

/**
 * Parses and validates a scenario (YAML, or JSON, which is YAML). Every error names the field:
 * `scenario.faults[2].kind: must be one of …, got "fire"`, with code SIM_ERR_SCENARIO.
 */
export function parseScenario(text: string): Scenario {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new SimError('SIM_ERR_SCENARIO', `scenario: not valid YAML or JSON: ${(err as Error).message}`);
  }
  const top = Fields.of(doc, 'scenario');
  const seed = top.int('seed', 0, 2 ** 32 - 1, 1);
  const personality = top.oneOf('personality', ['px4', 'ardupilot'] as const, 'px4');

  const airframes: Record<string, Airframe> = { quad: { ...DEFAULT_AIRFRAME } };
  const af = top.raw('airframes');
  if (af !== undefined) {
    const all = Fields.of(af, 'scenario.airframes');
    for (const name of Object.keys(af as Obj)) {
      const f = Fields.of(all.raw(name), `scenario.airframes.${name}`);
      const d = DEFAULT_AIRFRAME;
      airframes[name] = {
        cruiseSpeedMs: f.num('cruiseSpeedMs', 0.5, 40, d.cruiseSpeedMs), maxAirspeedMs: f.num('maxAirspeedMs', 0.5, 60, d.maxAirspeedMs),
        massKg: f.num('massKg', 0.1, 50, d.massKg), capacityWh: f.num('capacityWh', 1, 10_000, d.capacityWh),
        hoverPowerW: f.num('hoverPowerW', 1, 20_000, d.hoverPowerW), powerPerMsW: f.num('powerPerMsW', 0, 1000, d.powerPerMsW),
        payloadKg: f.num('payloadKg', 0, 20, d.payloadKg),
      };
      f.done();
    }
  }

  const homes: Record<string, HomePosition> = {};
  top.list('homes').forEach((h, i) => {
    const f = Fields.of(h, `scenario.homes[${i}]`);
    const name = f.str('name');
    homes[name] = { ...latLon(f), altMsl: f.num('altMsl', -500, 9000, 0) };
    f.done();
  });
  if (Object.keys(homes).length === 0) fail('scenario.homes', 'must list at least one home');

  const fleet = top.list('fleet').map((g, i): FleetGroup => {
    const f = Fields.of(g, `scenario.fleet[${i}]`);
    const group = { count: f.int('count', 1, 5000), airframe: f.str('airframe', 'quad'), home: f.str('home', Object.keys(homes)[0]) };
    if (!airframes[group.airframe]) fail(`scenario.fleet[${i}].airframe`, `must name an airframe (${Object.keys(airframes).join(', ')})`, group.airframe);
    if (!homes[group.home]) fail(`scenario.fleet[${i}].home`, `must name a home (${Object.keys(homes).join(', ')})`, group.home);
    f.done();
    return group;
  });
  if (fleet.length === 0) fail('scenario.fleet', 'must list at least one group');
  const size = fleet.reduce((n, g) => n + g.count, 0);
  if (size > 5000) fail('scenario.fleet', `must total at most 5000 drones, got ${size}`);

  let wind: WindParams = { meanMs: 0, fromDeg: 0, gustMs: 0, gustTimeS: 5 };
  if (top.has('wind')) {
    const f = Fields.of(top.raw('wind'), 'scenario.wind');
    wind = { meanMs: f.num('meanMs', 0, 40, 0), fromDeg: f.num('fromDeg', 0, 360, 0), gustMs: f.num('gustMs', 0, 20, 0), gustTimeS: f.num('gustTimeS', 0.1, 600, 5) };
    f.done();
  }
  let gps = { noiseM: 0, satellites: 14, hdop: 0.8 };
  if (top.has('gps')) {
    const f = Fields.of(top.raw('gps'), 'scenario.gps');
    gps = { noiseM: f.num('noiseM', 0, 100, 0), satellites: f.int('satellites', 0, 60, 14), hdop: f.num('hdop', 0.1, 99, 0.8) };
    f.done();
  }
  const params: Record<string, number> = {};
  if (top.has('params')) {
    const f = Fields.of(top.raw('params'), 'scenario.params');
    for (const k of Object.keys(top.raw('params') as Obj)) params[k] = f.num(k, -1e9, 1e9);
  }

  const faults = top.list('faults').map((x, i): ScheduledFault => {
    const f = Fields.of(x, `scenario.faults[${i}]`);
    const fault: ScheduledFault = { at: f.num('at', 0, 1e7), drone: f.int('drone', 1, size), kind: f.oneOf('kind', FAULT_KINDS) };
    if (f.has('durationS')) fault.durationS = f.num('durationS', 0, 1e7);
    if (f.has('pct')) fault.pct = f.num('pct', 0, 100);
    if (f.has('rate')) fault.rate = f.num('rate', 0, 1);
    f.done();
    return fault;
  });

  const deliveries = top.list('deliveries').map((x, i): DeliveryRequest => {
    const f = Fields.of(x, `scenario.deliveries[${i}]`);
    const pickup = Fields.of(f.raw('pickup'), `scenario.deliveries[${i}].pickup`);
    const dropoff = Fields.of(f.raw('dropoff'), `scenario.deliveries[${i}].dropoff`);
    const d = { at: f.num('at', 0, 1e7), id: f.str('id', `sim-${seed}-${i + 1}`), pickup: latLon(pickup), dropoff: latLon(dropoff) };
    pickup.done();
    dropoff.done();
    f.done();
    return d;
  });
  top.done();
  return { seed, personality, airframes, homes, fleet, wind, gps, params, faults, deliveries };
}

/** Fault starts and ends in time order (ties in file order), as the fleet applies them. */
export function faultTimeline(faults: readonly ScheduledFault[]): { atS: number; fault: ScheduledFault; active: boolean }[] {
  const events = faults.flatMap((fault) => [
    { atS: fault.at, fault, active: true },
    ...(fault.durationS !== undefined && fault.kind !== 'battery-sag' ? [{ atS: fault.at + fault.durationS, fault, active: false }] : []),
  ]);
  return events.map((e, i) => ({ e, i })).sort((a, b) => a.e.atS - b.e.atS || a.i - b.i).map(({ e }) => e);
}
