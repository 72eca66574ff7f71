import { MavModeFlag } from './mav-enums.js';

/** PX4 main modes (px4_custom_mode.h, PX4_CUSTOM_MAIN_MODE_*). */
export const Px4MainMode = {
  MANUAL: 1,
  ALTCTL: 2,
  POSCTL: 3,
  AUTO: 4,
  ACRO: 5,
  OFFBOARD: 6,
  STABILIZED: 7,
} as const;
export type Px4MainModeValue = (typeof Px4MainMode)[keyof typeof Px4MainMode];

/** PX4 AUTO sub modes (px4_custom_mode.h, PX4_CUSTOM_SUB_MODE_AUTO_*). */
export const Px4AutoSubMode = {
  READY: 1,
  TAKEOFF: 2,
  LOITER: 3,
  MISSION: 4,
  RTL: 5,
  LAND: 6,
} as const;
export type Px4AutoSubModeValue = (typeof Px4AutoSubMode)[keyof typeof Px4AutoSubMode];

export interface Px4Mode {
  main: Px4MainModeValue;
  /** 0 for every main mode but AUTO. */
  sub: Px4AutoSubModeValue | 0;
}

const auto = (sub: Px4AutoSubModeValue): Px4Mode => ({ main: Px4MainMode.AUTO, sub });

export const PX4_MODES = {
  MANUAL: { main: Px4MainMode.MANUAL, sub: 0 },
  ALTCTL: { main: Px4MainMode.ALTCTL, sub: 0 },
  POSCTL: { main: Px4MainMode.POSCTL, sub: 0 },
  ACRO: { main: Px4MainMode.ACRO, sub: 0 },
  OFFBOARD: { main: Px4MainMode.OFFBOARD, sub: 0 },
  STABILIZED: { main: Px4MainMode.STABILIZED, sub: 0 },
  AUTO_READY: auto(Px4AutoSubMode.READY),
  AUTO_TAKEOFF: auto(Px4AutoSubMode.TAKEOFF),
  AUTO_LOITER: auto(Px4AutoSubMode.LOITER),
  AUTO_MISSION: auto(Px4AutoSubMode.MISSION),
  AUTO_RTL: auto(Px4AutoSubMode.RTL),
  AUTO_LAND: auto(Px4AutoSubMode.LAND),
} as const satisfies Record<string, Px4Mode>;

/** HEARTBEAT.custom_mode as PX4 packs it: main mode in bits 16–23, sub mode in bits 24–31. */
export function encodeCustomMode(mode: Px4Mode): number {
  return ((mode.sub << 24) | (mode.main << 16)) >>> 0;
}

const MAIN_VALUES = new Set<number>(Object.values(Px4MainMode));
const SUB_VALUES = new Set<number>(Object.values(Px4AutoSubMode));

/** A valid PX4 mode from MAV_CMD_DO_SET_MODE's param2/param3, or null. */
export function px4ModeFrom(main: number, sub: number): Px4Mode | null {
  if (!MAIN_VALUES.has(main)) return null;
  if (main !== Px4MainMode.AUTO) return { main: main as Px4MainModeValue, sub: 0 };
  return SUB_VALUES.has(sub) ? { main: Px4MainMode.AUTO, sub: sub as Px4AutoSubModeValue } : null;
}

export function sameMode(a: Px4Mode, b: Px4Mode): boolean {
  return a.main === b.main && a.sub === b.sub;
}

/**
 * HEARTBEAT.base_mode as PX4's HEARTBEAT stream derives it from vehicle_control_mode: manual
 * modes set MANUAL_INPUT (plus STABILIZE when attitude is controlled), AUTO sets
 * AUTO | STABILIZE | GUIDED, and SAFETY_ARMED follows the arming state.
 */
export function encodeBaseMode(mode: Px4Mode, armed: boolean): number {
  let base: number = MavModeFlag.CUSTOM_MODE_ENABLED;
  switch (mode.main) {
    case Px4MainMode.ACRO:
      base |= MavModeFlag.MANUAL_INPUT_ENABLED;
      break;
    case Px4MainMode.MANUAL:
    case Px4MainMode.STABILIZED:
    case Px4MainMode.ALTCTL:
    case Px4MainMode.POSCTL:
      base |= MavModeFlag.MANUAL_INPUT_ENABLED | MavModeFlag.STABILIZE_ENABLED;
      break;
    case Px4MainMode.OFFBOARD:
      base |= MavModeFlag.STABILIZE_ENABLED | MavModeFlag.GUIDED_ENABLED;
      break;
    case Px4MainMode.AUTO:
      base |= MavModeFlag.AUTO_ENABLED | MavModeFlag.STABILIZE_ENABLED | MavModeFlag.GUIDED_ENABLED;
      break;
  }
  return armed ? base | MavModeFlag.SAFETY_ARMED : base;
}

const MAIN_NAMES: Record<Px4MainModeValue, string> = {
  1: 'MANUAL', 2: 'ALTCTL', 3: 'POSCTL', 4: 'AUTO', 5: 'ACRO', 6: 'OFFBOARD', 7: 'STABILIZED',
};
const SUB_NAMES: Record<Px4AutoSubModeValue, string> = {
  1: 'READY', 2: 'TAKEOFF', 3: 'LOITER', 4: 'MISSION', 5: 'RTL', 6: 'LAND',
};

/** PX4's display name, e.g. "AUTO.MISSION". */
export function modeName(mode: Px4Mode): string {
  return mode.sub === 0 ? MAIN_NAMES[mode.main] : `${MAIN_NAMES[mode.main]}.${SUB_NAMES[mode.sub]}`;
}
