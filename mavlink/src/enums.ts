/*
 * The few MAVLink enums the edge agent needs (common.xml / minimal.xml), named as node-mavlink
 * names them (without the enum prefix), so result names in CommandResult do not change.
 * test/enums.test.ts pins every value and name against node-mavlink's tables.
 */

/** MAV_RESULT: outcome of a COMMAND_LONG, by value. */
export const MAV_RESULT_NAMES: readonly string[] = [
  'ACCEPTED', 'TEMPORARILY_REJECTED', 'DENIED', 'UNSUPPORTED', 'FAILED', 'IN_PROGRESS', 'CANCELLED', 'COMMAND_LONG_ONLY',
  'COMMAND_INT_ONLY', 'COMMAND_UNSUPPORTED_MAV_FRAME',
];
export const MAV_RESULT_ACCEPTED = 0;
export const MAV_RESULT_UNSUPPORTED = 3;

/** MAV_MISSION_RESULT: outcome of a mission transfer (MISSION_ACK.type), by value. */
export const MAV_MISSION_RESULT_NAMES: readonly string[] = [
  'ACCEPTED', 'ERROR', 'UNSUPPORTED_FRAME', 'UNSUPPORTED', 'NO_SPACE', 'INVALID', 'INVALID_PARAM1', 'INVALID_PARAM2', 'INVALID_PARAM3',
  'INVALID_PARAM4', 'INVALID_PARAM5_X', 'INVALID_PARAM6_Y', 'INVALID_PARAM7', 'INVALID_SEQUENCE', 'DENIED', 'OPERATION_CANCELLED',
];
export const MAV_MISSION_ACCEPTED = 0;

/** A value's name, or the number itself for values newer than this table. */
export function enumName(names: readonly string[], value: number): string {
  return names[value] ?? String(value);
}

/** MAV_MISSION_TYPE_MISSION: the flight plan (as opposed to fence and rally points). */
export const MAV_MISSION_TYPE_MISSION = 0;

/** MAV_TYPE_ONBOARD_CONTROLLER: what a companion computer announces itself as. */
export const MAV_TYPE_ONBOARD_CONTROLLER = 18;
/** MAV_AUTOPILOT_INVALID: a component that is not a flight controller. */
export const MAV_AUTOPILOT_INVALID = 8;
/** MAV_STATE_ACTIVE. */
export const MAV_STATE_ACTIVE = 4;

/** MAV_DATA_STREAM groups of REQUEST_DATA_STREAM (deprecated, still ArduPilot's SRn_ scheme). */
export const MAV_DATA_STREAM = { EXTENDED_STATUS: 2, POSITION: 6, EXTRA1: 10, EXTRA2: 11, EXTRA3: 12 } as const;
