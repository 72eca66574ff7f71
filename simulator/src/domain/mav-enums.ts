/**
 * The MAVLink enum values the flight controller reasons about, as plain numbers from
 * minimal.xml and common.xml, so the domain stays free of node-mavlink (the adapter passes
 * them through unchanged; test/mav-enums.test.ts pins them against node-mavlink's tables).
 */

export const MavCmd = {
  NAV_WAYPOINT: 16,
  NAV_RETURN_TO_LAUNCH: 20,
  NAV_LAND: 21,
  NAV_TAKEOFF: 22,
  NAV_DELAY: 93,
  DO_SET_MODE: 176,
  DO_GRIPPER: 211,
  DO_SET_MISSION_CURRENT: 224,
  GET_HOME_POSITION: 410,
  SET_MESSAGE_INTERVAL: 511,
  REQUEST_MESSAGE: 512,
  DO_PAUSE_CONTINUE: 193,
  MISSION_START: 300,
  COMPONENT_ARM_DISARM: 400,
} as const;

export const MavResult = {
  ACCEPTED: 0,
  TEMPORARILY_REJECTED: 1,
  DENIED: 2,
  UNSUPPORTED: 3,
  FAILED: 4,
} as const;
export type MavResultValue = (typeof MavResult)[keyof typeof MavResult];

export const MavMissionResult = {
  ACCEPTED: 0,
  ERROR: 1,
  UNSUPPORTED_FRAME: 2,
  UNSUPPORTED: 3,
  NO_SPACE: 4,
  INVALID_SEQUENCE: 13,
  OPERATION_CANCELLED: 15,
} as const;
export type MavMissionResultValue = (typeof MavMissionResult)[keyof typeof MavMissionResult];

export const MavMissionType = { MISSION: 0, FENCE: 1, RALLY: 2, ALL: 255 } as const;

export const MavFrame = {
  MISSION: 2,
  GLOBAL_RELATIVE_ALT: 3,
  GLOBAL_RELATIVE_ALT_INT: 6,
} as const;

export const MavLandedState = { UNDEFINED: 0, ON_GROUND: 1, IN_AIR: 2, TAKEOFF: 3, LANDING: 4 } as const;
export type MavLandedStateValue = (typeof MavLandedState)[keyof typeof MavLandedState];

export const MissionState = { UNKNOWN: 0, NO_MISSION: 1, NOT_STARTED: 2, ACTIVE: 3, PAUSED: 4, COMPLETE: 5 } as const;
export type MissionStateValue = (typeof MissionState)[keyof typeof MissionState];

export const MavSeverity = { EMERGENCY: 0, ALERT: 1, CRITICAL: 2, ERROR: 3, WARNING: 4, NOTICE: 5, INFO: 6, DEBUG: 7 } as const;
export type MavSeverityValue = (typeof MavSeverity)[keyof typeof MavSeverity];

export const MavModeFlag = {
  CUSTOM_MODE_ENABLED: 1,
  AUTO_ENABLED: 4,
  GUIDED_ENABLED: 8,
  STABILIZE_ENABLED: 16,
  MANUAL_INPUT_ENABLED: 64,
  SAFETY_ARMED: 128,
} as const;

export const MavState = { STANDBY: 3, ACTIVE: 4, CRITICAL: 5 } as const;
export type MavStateValue = (typeof MavState)[keyof typeof MavState];

export const GpsFixType = { NO_FIX: 1, FIX_3D: 3 } as const;

/** MAV_CMD_COMPONENT_ARM_DISARM param2: the magic number that forces a disarm in flight. */
export const FORCE_DISARM_MAGIC = 21196;
