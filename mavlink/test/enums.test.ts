import { describe, expect, it } from 'vitest';
import { common, minimal } from 'node-mavlink';
import {
  MAV_AUTOPILOT_INVALID, MAV_DATA_STREAM, MAV_MISSION_ACCEPTED, MAV_MISSION_RESULT_NAMES, MAV_MISSION_TYPE_MISSION, MAV_RESULT_ACCEPTED,
  MAV_RESULT_NAMES, MAV_RESULT_UNSUPPORTED, MAV_STATE_ACTIVE, MAV_TYPE_ONBOARD_CONTROLLER, enumName,
} from '../src/index.js';

const table = (e: Record<string, string | number>): string[] => {
  const out: string[] = [];
  for (const [k, v] of Object.entries(e)) if (typeof v === 'number') out[v] = k;
  return out;
};

describe('MAVLink enums of the hand-written codec, against node-mavlink', () => {
  it('MAV_RESULT and MAV_MISSION_RESULT names by value', () => {
    expect(MAV_RESULT_NAMES).toEqual(table(common.MavResult));
    expect(MAV_MISSION_RESULT_NAMES).toEqual(table(common.MavMissionResult));
    expect([MAV_RESULT_ACCEPTED, MAV_RESULT_UNSUPPORTED, MAV_MISSION_ACCEPTED]).toEqual([common.MavResult.ACCEPTED, common.MavResult.UNSUPPORTED, common.MavMissionResult.ACCEPTED]);
    expect(enumName(MAV_RESULT_NAMES, 4)).toBe('FAILED');
    expect(enumName(MAV_RESULT_NAMES, 200)).toBe('200');
  });

  it('the constants the agent sends', () => {
    expect(MAV_MISSION_TYPE_MISSION).toBe(common.MavMissionType.MISSION);
    expect(MAV_TYPE_ONBOARD_CONTROLLER).toBe(minimal.MavType.ONBOARD_CONTROLLER);
    expect(MAV_AUTOPILOT_INVALID).toBe(minimal.MavAutopilot.INVALID);
    expect(MAV_STATE_ACTIVE).toBe(minimal.MavState.ACTIVE);
    expect(MAV_DATA_STREAM).toEqual({
      EXTENDED_STATUS: common.MavDataStream.EXTENDED_STATUS, POSITION: common.MavDataStream.POSITION, EXTRA1: common.MavDataStream.EXTRA1,
      EXTRA2: common.MavDataStream.EXTRA2, EXTRA3: common.MavDataStream.EXTRA3,
    });
  });
});
