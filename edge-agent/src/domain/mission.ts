import type { MissionStep } from '@aerie/contracts';

/** One MISSION_ITEM_INT as plain values (common.xml). */
export interface MissionItem {
  seq: number;
  frame: number;
  command: number;
  current: number;
  autocontinue: number;
  params: [number, number, number, number];
  x: number;
  y: number;
  z: number;
}

// MAV_CMD and MAV_FRAME numbers from common.xml.
export const MAV_CMD_NAV_WAYPOINT = 16;
export const MAV_CMD_NAV_RETURN_TO_LAUNCH = 20;
export const MAV_CMD_NAV_LAND = 21;
export const MAV_CMD_NAV_TAKEOFF = 22;
export const MAV_CMD_NAV_DELAY = 93;
export const MAV_CMD_DO_GRIPPER = 211;
export const MAV_CMD_COMPONENT_ARM_DISARM = 400;
export const MAV_CMD_MISSION_START = 300;
export const MAV_FRAME_GLOBAL_RELATIVE_ALT_INT = 6;
export const MAV_FRAME_MISSION = 2;

const degE7 = (deg: number) => Math.round(deg * 1e7);

/** Maps the contract's mission steps to MISSION_ITEM_INTs, numbered from 0. */
export function toMissionItems(steps: readonly MissionStep[]): MissionItem[] {
  return steps.map((step, seq) => {
    const base = { seq, current: seq === 0 ? 1 : 0, autocontinue: 1, frame: MAV_FRAME_GLOBAL_RELATIVE_ALT_INT };
    switch (step.kind) {
      case 'takeoff':
        return { ...base, command: MAV_CMD_NAV_TAKEOFF, params: [0, 0, 0, Number.NaN], x: 0, y: 0, z: step.alt };
      case 'waypoint':
        // param2: acceptance radius (m).
        return { ...base, command: MAV_CMD_NAV_WAYPOINT, params: [0, 2, 0, Number.NaN], x: degE7(step.lat), y: degE7(step.lon), z: step.alt };
      case 'land':
        return { ...base, command: MAV_CMD_NAV_LAND, params: [0, 0, 0, Number.NaN], x: degE7(step.lat), y: degE7(step.lon), z: 0 };
      case 'delay':
        // NAV_DELAY param1: delay in seconds; params 2–4 of -1 mean "not a time of day".
        return { ...base, frame: MAV_FRAME_MISSION, command: MAV_CMD_NAV_DELAY, params: [step.seconds, -1, -1, -1], x: 0, y: 0, z: 0 };
      case 'rtl':
        return { ...base, frame: MAV_FRAME_MISSION, command: MAV_CMD_NAV_RETURN_TO_LAUNCH, params: [0, 0, 0, 0], x: 0, y: 0, z: 0 };
      case 'gripper':
        // [MAV_CMD_DO_GRIPPER] param1 gripper instance (1), param2 action: GRIPPER_ACTION_RELEASE 0, GRIPPER_ACTION_GRAB 1.
        return { ...base, frame: MAV_FRAME_MISSION, command: MAV_CMD_DO_GRIPPER, params: [1, step.action === 'grab' ? 1 : 0, 0, 0], x: 0, y: 0, z: 0 };
    }
  });
}
