import type { FlightMode } from '@aerie/contracts';
import { MAV_AUTOPILOT_ARDUPILOTMEGA, MAV_AUTOPILOT_PX4, MAV_MODE_FLAG_CUSTOM_MODE_ENABLED } from './telemetry.js';

export interface DecodedMode {
  mode: FlightMode;
  /** The autopilot's own name for the mode, or `<family>:<number>` when unknown. */
  raw: string;
  /** HEARTBEAT.custom_mode as sent. */
  customMode: number;
}

type Table = Record<number, [string, FlightMode]>;

// PX4 src/modules/commander/px4_custom_mode.h: main mode in bits 16..23, sub mode in bits 24..31.
const PX4_MAIN: Table = {
  1: ['MANUAL', 'MANUAL'], 2: ['ALTCTL', 'ALTITUDE'], 3: ['POSCTL', 'POSITION'], 5: ['ACRO', 'ACRO'],
  6: ['OFFBOARD', 'OFFBOARD'], 7: ['STABILIZED', 'STABILIZED'], 8: ['RATTITUDE', 'ACRO'], 10: ['TERMINATION', 'MANUAL'],
};
const PX4_AUTO_SUB: Table = {
  1: ['AUTO.READY', 'HOLD'], 2: ['AUTO.TAKEOFF', 'TAKEOFF'], 3: ['AUTO.LOITER', 'HOLD'], 4: ['AUTO.MISSION', 'MISSION'],
  5: ['AUTO.RTL', 'RETURN'], 6: ['AUTO.LAND', 'LAND'], 8: ['AUTO.FOLLOW_TARGET', 'GUIDED'], 9: ['AUTO.PRECLAND', 'LAND'],
  10: ['AUTO.VTOL_TAKEOFF', 'TAKEOFF'],
};
const PX4_POSCTL_SUB: Table = { 0: ['POSCTL', 'POSITION'], 1: ['POSCTL.ORBIT', 'GUIDED'], 2: ['POSCTL.SLOW', 'POSITION'] };

// ArduCopter/mode.h, enum class Mode::Number.
const ARDUCOPTER: Table = {
  0: ['STABILIZE', 'STABILIZED'], 1: ['ACRO', 'ACRO'], 2: ['ALT_HOLD', 'ALTITUDE'], 3: ['AUTO', 'MISSION'],
  4: ['GUIDED', 'GUIDED'], 5: ['LOITER', 'HOLD'], 6: ['RTL', 'RETURN'], 7: ['CIRCLE', 'HOLD'], 9: ['LAND', 'LAND'],
  11: ['DRIFT', 'MANUAL'], 13: ['SPORT', 'ALTITUDE'], 14: ['FLIP', 'ACRO'], 15: ['AUTOTUNE', 'ALTITUDE'],
  16: ['POSHOLD', 'POSITION'], 17: ['BRAKE', 'HOLD'], 18: ['THROW', 'MANUAL'], 19: ['AVOID_ADSB', 'GUIDED'],
  20: ['GUIDED_NOGPS', 'GUIDED'], 21: ['SMART_RTL', 'RETURN'], 22: ['FLOWHOLD', 'POSITION'], 23: ['FOLLOW', 'GUIDED'],
  24: ['ZIGZAG', 'MISSION'], 25: ['SYSTEMID', 'STABILIZED'], 26: ['AUTOROTATE', 'LAND'], 27: ['AUTO_RTL', 'RETURN'],
  28: ['TURTLE', 'MANUAL'],
};
// ArduPlane/mode.h, enum class Mode::Number (Q modes are the quad-plane's VTOL modes).
const ARDUPLANE: Table = {
  0: ['MANUAL', 'MANUAL'], 1: ['CIRCLE', 'HOLD'], 2: ['STABILIZE', 'STABILIZED'], 3: ['TRAINING', 'STABILIZED'],
  4: ['ACRO', 'ACRO'], 5: ['FBWA', 'STABILIZED'], 6: ['FBWB', 'ALTITUDE'], 7: ['CRUISE', 'POSITION'],
  8: ['AUTOTUNE', 'STABILIZED'], 10: ['AUTO', 'MISSION'], 11: ['RTL', 'RETURN'], 12: ['LOITER', 'HOLD'],
  13: ['TAKEOFF', 'TAKEOFF'], 14: ['AVOID_ADSB', 'GUIDED'], 15: ['GUIDED', 'GUIDED'], 16: ['INITIALISING', 'UNKNOWN'],
  17: ['QSTABILIZE', 'STABILIZED'], 18: ['QHOVER', 'ALTITUDE'], 19: ['QLOITER', 'POSITION'], 20: ['QLAND', 'LAND'],
  21: ['QRTL', 'RETURN'], 22: ['QAUTOTUNE', 'ALTITUDE'], 23: ['QACRO', 'ACRO'], 24: ['THERMAL', 'HOLD'],
  25: ['LOITER_ALT_QLAND', 'LAND'],
};
// Rover/mode.h, enum class Mode::Number (boats too).
const ARDUROVER: Table = {
  0: ['MANUAL', 'MANUAL'], 1: ['ACRO', 'ACRO'], 3: ['STEERING', 'STABILIZED'], 4: ['HOLD', 'HOLD'], 5: ['LOITER', 'HOLD'],
  6: ['FOLLOW', 'GUIDED'], 7: ['SIMPLE', 'MANUAL'], 8: ['DOCK', 'GUIDED'], 9: ['CIRCLE', 'HOLD'], 10: ['AUTO', 'MISSION'],
  11: ['RTL', 'RETURN'], 12: ['SMART_RTL', 'RETURN'], 15: ['GUIDED', 'GUIDED'], 16: ['INITIALISING', 'UNKNOWN'],
};
// ArduSub/mode.h, enum class Mode::Number.
const ARDUSUB: Table = {
  0: ['STABILIZE', 'STABILIZED'], 1: ['ACRO', 'ACRO'], 2: ['ALT_HOLD', 'ALTITUDE'], 3: ['AUTO', 'MISSION'],
  4: ['GUIDED', 'GUIDED'], 7: ['CIRCLE', 'HOLD'], 9: ['SURFACE', 'RETURN'], 16: ['POSHOLD', 'POSITION'],
  19: ['MANUAL', 'MANUAL'], 20: ['MOTOR_DETECT', 'MANUAL'], 21: ['SURFTRAK', 'ALTITUDE'],
};

export type ArduVehicle = 'copter' | 'plane' | 'rover' | 'sub';

/**
 * Which ArduPilot firmware sends this HEARTBEAT.type (MAV_TYPE, minimal.xml). ArduPlane reports
 * FIXED_WING, or a VTOL type for quad-planes; ArduRover GROUND_ROVER or SURFACE_BOAT; ArduSub
 * SUBMARINE; every multirotor and helicopter frame is ArduCopter.
 */
export function arduVehicleOf(mavType: number): ArduVehicle {
  if (mavType === 1 || (mavType >= 19 && mavType <= 25)) return 'plane';
  if (mavType === 10 || mavType === 11) return 'rover';
  if (mavType === 12) return 'sub';
  return 'copter';
}

const ARDU_TABLES: Record<ArduVehicle, Table> = { copter: ARDUCOPTER, plane: ARDUPLANE, rover: ARDUROVER, sub: ARDUSUB };

export function decodeFlightMode(autopilot: number, baseMode: number, customMode: number, mavType = 2): DecodedMode {
  if ((baseMode & MAV_MODE_FLAG_CUSTOM_MODE_ENABLED) === 0) return { mode: 'UNKNOWN', raw: `base:${baseMode}`, customMode };
  if (autopilot === MAV_AUTOPILOT_PX4) {
    const main = (customMode >>> 16) & 0xff;
    const sub = (customMode >>> 24) & 0xff;
    const entry = main === 4 ? PX4_AUTO_SUB[sub] : main === 3 ? PX4_POSCTL_SUB[sub] : PX4_MAIN[main];
    return entry ? { mode: entry[1], raw: entry[0], customMode } : { mode: 'UNKNOWN', raw: `px4:${main}.${sub}`, customMode };
  }
  if (autopilot === MAV_AUTOPILOT_ARDUPILOTMEGA) {
    const vehicle = arduVehicleOf(mavType);
    const entry = ARDU_TABLES[vehicle][customMode];
    return entry ? { mode: entry[1], raw: entry[0], customMode } : { mode: 'UNKNOWN', raw: `ardu${vehicle}:${customMode}`, customMode };
  }
  return { mode: 'UNKNOWN', raw: String(customMode), customMode };
}
