import { displace, type LatLon } from '../src/domain/geo.js';
import { ManualClock } from '../src/domain/warp-clock.js';
import { Vehicle, type VehicleOptions } from '../src/domain/vehicle.js';
import type { HomePosition, MissionItem, Sender, VehicleInput, VehicleOutput, VehicleSnapshot } from '../src/domain/types.js';

export const HOME: HomePosition = { lat: 47.3977, lon: 8.5456, altMsl: 488 };
export const GCS: Sender = { sysid: 255, compid: 190 };

export const at = (northM: number, eastM: number): LatLon => displace(HOME, { northM, eastM });

type ItemSpec = Partial<MissionItem> & Pick<MissionItem, 'command'>;

/** MISSION_ITEM_INTs numbered from 0, in MAV_FRAME_GLOBAL_RELATIVE_ALT_INT unless said otherwise. */
export function plan(specs: ItemSpec[]): MissionItem[] {
  return specs.map((s, seq) => ({ seq, frame: 6, param1: 0, param2: 0, param3: 0, param4: Number.NaN, x: 0, y: 0, z: 0, autocontinue: 1, ...s }));
}

export const takeoffItem = (z: number): ItemSpec => ({ command: 22, z });
export const waypointItem = (p: LatLon, z: number): ItemSpec => ({ command: 16, x: Math.round(p.lat * 1e7), y: Math.round(p.lon * 1e7), z, param2: 2 });
export const landItem = (p: LatLon): ItemSpec => ({ command: 21, x: Math.round(p.lat * 1e7), y: Math.round(p.lon * 1e7) });
export const delayItem = (seconds: number): ItemSpec => ({ command: 93, frame: 2, param1: seconds, param2: -1, param3: -1, param4: -1 });
export const rtlItem = (): ItemSpec => ({ command: 20, frame: 2 });

/** A vehicle on a manual clock, with everything it emits recorded. */
export class Bench {
  readonly clock = new ManualClock(1_700_000_000_000);
  readonly out: VehicleOutput[] = [];
  readonly vehicle: Vehicle;

  constructor(opts: Partial<Omit<VehicleOptions, 'clock' | 'emit' | 'home'>> = {}) {
    this.vehicle = new Vehicle({ sysid: 1, ...opts, home: HOME, clock: this.clock, emit: (o) => this.out.push(o) });
  }

  send(input: DistributiveOmit<VehicleInput, 'from' | 'targetSystem'> & { targetSystem?: number }): void {
    this.vehicle.handle({ from: GCS, targetSystem: 1, ...input });
  }

  /** COMMAND_LONG → the COMMAND_ACK result, or undefined when none came. */
  command(command: number, params: number[] = [], targetSystem = 1, confirmation = 0): number | undefined {
    const before = this.out.length;
    this.send({ kind: 'command-long', command, params, targetSystem, confirmation });
    const ack = this.out.slice(before).find((o) => o.kind === 'command-ack' && o.command === command);
    return ack?.kind === 'command-ack' ? ack.result : undefined;
  }

  /** The mission upload protocol, answering each MISSION_REQUEST_INT; the MISSION_ACK result. */
  upload(items: MissionItem[]): number | undefined {
    let cursor = this.out.length;
    this.send({ kind: 'mission-count', count: items.length, missionType: 0 });
    for (let guard = 0; guard < items.length * 3 + 3; guard++) {
      const next = this.out.slice(cursor).find((o) => o.kind === 'mission-request' || o.kind === 'mission-ack');
      cursor = this.out.length;
      if (!next) return undefined;
      if (next.kind === 'mission-ack') return next.result;
      if (next.kind !== 'mission-request') return undefined;
      const item = items[next.seq];
      if (!item) return undefined;
      this.send({ kind: 'mission-item', missionType: 0, item });
    }
    return undefined;
  }

  snapshot(): VehicleSnapshot {
    return this.vehicle.snapshot();
  }

  /** Steps physics at 100 ms until `done` holds; false when `maxS` simulated seconds pass first. */
  fly(done: (s: VehicleSnapshot) => boolean, maxS: number, onStep?: (s: VehicleSnapshot) => void): boolean {
    for (let t = 0; t < maxS * 10; t++) {
      this.clock.advance(100);
      this.vehicle.step(0.1);
      const s = this.vehicle.snapshot();
      onStep?.(s);
      if (done(s)) return true;
    }
    return false;
  }

  texts(): string[] {
    return this.out.flatMap((o) => (o.kind === 'statustext' ? [o.text] : []));
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
