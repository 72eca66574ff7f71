import { MavModeFlag } from './mav-enums.js';
import {
  PX4_MODES, Px4MainMode, encodeBaseMode as px4BaseMode, encodeCustomMode as px4CustomMode, modeName as px4ModeName, px4ModeFrom,
  type Px4Mode,
} from './px4-mode.js';

/**
 * How the flight controller presents itself: heartbeat autopilot and mode encoding, the mode
 * numbers DO_SET_MODE takes, its parameter names. Behaviour inside (the state machine, physics,
 * mission protocol) is shared; internally modes are PX4's (main, sub) pairs.
 */
export type PersonalityName = 'px4' | 'ardupilot';

/** MAV_PARAM_TYPE (common.xml): what PARAM_VALUE.param_type says of each value. */
export const MavParamType = { UINT8: 1, INT32: 6, REAL32: 9 } as const;

export interface ParamDef {
  /** At most 16 characters (PARAM_VALUE.param_id is char[16]). */
  id: string;
  type: number;
  value: number;
  min: number;
  max: number;
}

export interface Personality {
  readonly name: PersonalityName;
  /** HEARTBEAT.autopilot: MAV_AUTOPILOT_PX4 (12) or MAV_AUTOPILOT_ARDUPILOTMEGA (3). */
  readonly autopilot: number;
  /** Where the vehicle goes when a maneuver ends and nothing else is asked of it. */
  readonly holdMode: Px4Mode;
  customMode(mode: Px4Mode): number;
  baseMode(mode: Px4Mode, armed: boolean): number;
  modeName(mode: Px4Mode): string;
  /** MAV_CMD_DO_SET_MODE param2/param3 (or SET_MODE.custom_mode) as a mode; null when not one. */
  modeFrom(customMain: number, customSub: number): Px4Mode | null;
}

export const PX4: Personality = {
  name: 'px4',
  autopilot: 12,
  holdMode: PX4_MODES.AUTO_LOITER,
  customMode: px4CustomMode,
  baseMode: px4BaseMode,
  modeName: px4ModeName,
  modeFrom: px4ModeFrom,
};

/** ArduCopter's mode numbers (ArduCopter/mode.h, enum class Mode::Number). */
export const CopterMode = {
  STABILIZE: 0, ACRO: 1, ALT_HOLD: 2, AUTO: 3, GUIDED: 4, LOITER: 5, RTL: 6, CIRCLE: 7, LAND: 9, POSHOLD: 16, BRAKE: 17, SMART_RTL: 21,
} as const;

const COPTER_FROM: Record<number, Px4Mode> = {
  [CopterMode.STABILIZE]: PX4_MODES.STABILIZED,
  [CopterMode.ACRO]: PX4_MODES.ACRO,
  [CopterMode.ALT_HOLD]: PX4_MODES.ALTCTL,
  [CopterMode.AUTO]: PX4_MODES.AUTO_MISSION,
  [CopterMode.GUIDED]: PX4_MODES.AUTO_READY,
  [CopterMode.LOITER]: PX4_MODES.AUTO_LOITER,
  [CopterMode.RTL]: PX4_MODES.AUTO_RTL,
  [CopterMode.LAND]: PX4_MODES.AUTO_LAND,
  [CopterMode.POSHOLD]: PX4_MODES.POSCTL,
  [CopterMode.BRAKE]: PX4_MODES.AUTO_LOITER,
  [CopterMode.SMART_RTL]: PX4_MODES.AUTO_RTL,
};

function copterNumber(mode: Px4Mode): number {
  if (mode.main === Px4MainMode.AUTO) {
    // A takeoff command flies in GUIDED on ArduCopter; GUIDED is also "hold where told".
    const bySub: Record<number, number> = { 1: CopterMode.GUIDED, 2: CopterMode.GUIDED, 3: CopterMode.LOITER, 4: CopterMode.AUTO, 5: CopterMode.RTL, 6: CopterMode.LAND };
    return bySub[mode.sub] ?? CopterMode.LOITER;
  }
  const byMain: Record<number, number> = { 1: CopterMode.STABILIZE, 2: CopterMode.ALT_HOLD, 3: CopterMode.POSHOLD, 5: CopterMode.ACRO, 6: CopterMode.GUIDED, 7: CopterMode.STABILIZE };
  return byMain[mode.main] ?? CopterMode.STABILIZE;
}

const COPTER_NAMES: Record<number, string> = Object.fromEntries(Object.entries(CopterMode).map(([k, v]) => [v, k]));
/** Modes in which ArduCopter's base_mode carries GUIDED_ENABLED (GCS_MAVLink_Copter.cpp, base_mode()). */
const COPTER_GUIDED = new Set<number>([CopterMode.AUTO, CopterMode.GUIDED, CopterMode.LOITER, CopterMode.RTL, CopterMode.CIRCLE, CopterMode.POSHOLD, CopterMode.BRAKE, CopterMode.SMART_RTL]);

export const ARDUPILOT: Personality = {
  name: 'ardupilot',
  autopilot: 3,
  holdMode: PX4_MODES.AUTO_LOITER,
  customMode: copterNumber,
  baseMode(mode, armed) {
    // ArduCopter always sets STABILIZE and MANUAL_INPUT, GUIDED in the navigating modes.
    let base: number = MavModeFlag.CUSTOM_MODE_ENABLED | MavModeFlag.STABILIZE_ENABLED | MavModeFlag.MANUAL_INPUT_ENABLED;
    if (COPTER_GUIDED.has(copterNumber(mode))) base |= MavModeFlag.GUIDED_ENABLED;
    return armed ? base | MavModeFlag.SAFETY_ARMED : base;
  },
  modeName: (mode) => COPTER_NAMES[copterNumber(mode)] ?? 'UNKNOWN',
  modeFrom: (custom) => COPTER_FROM[custom] ?? null,
};

export function personalityOf(name: PersonalityName): Personality {
  return name === 'ardupilot' ? ARDUPILOT : PX4;
}
