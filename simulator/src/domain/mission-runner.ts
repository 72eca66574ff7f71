import { MavCmd, MissionState, type MissionStateValue } from './mav-enums.js';
import { delay, goTo, land, returnToLaunch, takeoff, type Maneuver } from './maneuver.js';
import type { Kinematics } from './physics.js';
import type { MissionItem } from './types.js';

/** MAV_CMD_NAV_WAYPOINT param2 when left at 0: PX4's NAV_ACC_RAD default, m. */
const DEFAULT_ACCEPT_RADIUS_M = 2;

export interface ItemContext {
  kin: Kinematics;
  nowS: number;
  rtlAltM: number;
}

/** What the end of an item means for the vehicle. */
export type ItemOutcome =
  | { kind: 'next' }
  /** The mission is over; `disarm` when it ended on the ground. */
  | { kind: 'complete'; disarm: boolean };

/** The uploaded plan, the current item and MISSION_CURRENT.mission_state. */
export class MissionRunner {
  private items: readonly MissionItem[] = [];
  private current = 0;
  private status: MissionStateValue = MissionState.NO_MISSION;

  get plan(): readonly MissionItem[] {
    return this.items;
  }

  get seq(): number {
    return this.current;
  }

  get state(): MissionStateValue {
    return this.status;
  }

  get count(): number {
    return this.items.length;
  }

  /** A finished or empty plan has nothing to resume. */
  get resumable(): boolean {
    return this.items.length > 0 && this.status !== MissionState.COMPLETE;
  }

  setPlan(items: readonly MissionItem[]): void {
    this.items = items;
    this.current = 0;
    this.status = items.length > 0 ? MissionState.NOT_STARTED : MissionState.NO_MISSION;
  }

  /** MAV_CMD_MISSION_START: run from `first` (param1), item 0 when out of range. */
  start(first: number): void {
    this.current = Number.isInteger(first) && first >= 0 && first < this.items.length ? first : 0;
    this.status = MissionState.ACTIVE;
  }

  /** MISSION_SET_CURRENT: the next item to fly; false when out of range. */
  setCurrent(seq: number): boolean {
    if (!Number.isInteger(seq) || seq < 0 || seq >= this.items.length) return false;
    this.current = seq;
    if (this.status === MissionState.COMPLETE) this.status = MissionState.PAUSED;
    return true;
  }

  /** Entering AUTO.MISSION: continue where the plan stands, from the top once it completed. */
  resume(): void {
    if (this.items.length === 0) return;
    if (this.status === MissionState.COMPLETE) this.current = 0;
    this.status = MissionState.ACTIVE;
  }

  pause(): void {
    if (this.status === MissionState.ACTIVE) this.status = MissionState.PAUSED;
  }

  /** The item being run, if any. */
  get currentItem(): MissionItem | null {
    return this.status === MissionState.ACTIVE ? (this.items[this.current] ?? null) : null;
  }

  /** The maneuver flying the current item, or null when there is none. */
  maneuver(ctx: ItemContext): Maneuver | null {
    const item = this.items[this.current];
    if (!item || this.status !== MissionState.ACTIVE) return null;
    const point = { lat: item.x / 1e7, lon: item.y / 1e7 };
    switch (item.command) {
      case MavCmd.NAV_TAKEOFF:
        // PX4 takes off straight up from where it stands; x/y only matter for fixed wing.
        return takeoff(ctx.kin, item.z);
      case MavCmd.NAV_WAYPOINT:
        return goTo(point, item.z, item.param2 > 0 ? item.param2 : DEFAULT_ACCEPT_RADIUS_M, Math.max(0, item.param1 || 0));
      case MavCmd.NAV_LAND:
        // [MAV_CMD_NAV_LAND] lat/lon 0 (or NaN): land at the current position.
        return land(ctx.kin, item.x === 0 && item.y === 0 ? null : point);
      case MavCmd.NAV_DELAY:
        // param1 < 0 selects the time-of-day form (params 2–4), which the simulator does not keep.
        return delay(ctx.kin, item.param1 > 0 ? item.param1 : 0, ctx.nowS);
      case MavCmd.NAV_RETURN_TO_LAUNCH:
        return returnToLaunch(ctx.kin, ctx.rtlAltM);
      case MavCmd.DO_GRIPPER:
        // A DO item takes no time: the vehicle acts on it (vehicle.ts) and goes on to the next.
        return delay(ctx.kin, 0, ctx.nowS);
      default:
        return null;
    }
  }

  /** The current item is done: move on, or finish the mission. */
  itemDone(onGround: boolean): ItemOutcome {
    const item = this.items[this.current];
    const last = this.current >= this.items.length - 1;
    if (item?.command === MavCmd.NAV_RETURN_TO_LAUNCH || last) {
      this.status = MissionState.COMPLETE;
      return { kind: 'complete', disarm: onGround };
    }
    this.current += 1;
    return { kind: 'next' };
  }
}
