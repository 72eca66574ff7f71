import type { FlightMode } from '@aerie/contracts';
import { MAV_AUTOPILOT_ARDUPILOTMEGA, MAV_AUTOPILOT_PX4, MAV_MODE_FLAG_CUSTOM_MODE_ENABLED } from './telemetry.js';

export interface DecodedMode {
  mode: FlightMode;
  /** The autopilot's own name for the mode, or the raw number when unknown. */
  raw: string;
}

// PX4 px4_custom_mode.h: main mode in bits 16..23, sub mode (AUTO only) in bits 24..31.
const PX4_MAIN: Record<number, [string, FlightMode]> = {
  1: ['MANUAL', 'MANUAL'], 2: ['ALTCTL', 'ALTITUDE'], 3: ['POSCTL', 'POSITION'], 5: ['ACRO', 'ACRO'],
  6: ['OFFBOARD', 'OFFBOARD'], 7: ['STABILIZED', 'STABILIZED'], 8: ['RATTITUDE', 'ACRO'],
};
const PX4_AUTO_SUB: Record<number, [string, FlightMode]> = {
  1: ['AUTO.READY', 'HOLD'], 2: ['AUTO.TAKEOFF', 'TAKEOFF'], 3: ['AUTO.LOITER', 'HOLD'], 4: ['AUTO.MISSION', 'MISSION'],
  5: ['AUTO.RTL', 'RETURN'], 6: ['AUTO.LAND', 'LAND'], 8: ['AUTO.FOLLOW_TARGET', 'GUIDED'], 9: ['AUTO.PRECLAND', 'LAND'],
};

// ArduCopter mode numbers (ArduCopter/mode.h, enum class Mode::Number).
const ARDUCOPTER: Record<number, [string, FlightMode]> = {
  0: ['STABILIZE', 'STABILIZED'], 1: ['ACRO', 'ACRO'], 2: ['ALT_HOLD', 'ALTITUDE'], 3: ['AUTO', 'MISSION'],
  4: ['GUIDED', 'GUIDED'], 5: ['LOITER', 'HOLD'], 6: ['RTL', 'RETURN'], 7: ['CIRCLE', 'HOLD'], 9: ['LAND', 'LAND'],
  11: ['DRIFT', 'MANUAL'], 13: ['SPORT', 'ALTITUDE'], 16: ['POSHOLD', 'POSITION'], 17: ['BRAKE', 'HOLD'],
  18: ['THROW', 'MANUAL'], 20: ['GUIDED_NOGPS', 'GUIDED'], 21: ['SMART_RTL', 'RETURN'], 27: ['AUTO_RTL', 'RETURN'],
};

export function decodeFlightMode(autopilot: number, baseMode: number, customMode: number): DecodedMode {
  if ((baseMode & MAV_MODE_FLAG_CUSTOM_MODE_ENABLED) === 0) return { mode: 'UNKNOWN', raw: `base:${baseMode}` };
  if (autopilot === MAV_AUTOPILOT_PX4) {
    const main = (customMode >>> 16) & 0xff;
    const sub = (customMode >>> 24) & 0xff;
    const entry = main === 4 ? PX4_AUTO_SUB[sub] : PX4_MAIN[main];
    return entry ? { mode: entry[1], raw: entry[0] } : { mode: 'UNKNOWN', raw: `px4:${main}.${sub}` };
  }
  if (autopilot === MAV_AUTOPILOT_ARDUPILOTMEGA) {
    const entry = ARDUCOPTER[customMode];
    return entry ? { mode: entry[1], raw: entry[0] } : { mode: 'UNKNOWN', raw: `ardupilot:${customMode}` };
  }
  return { mode: 'UNKNOWN', raw: String(customMode) };
}
