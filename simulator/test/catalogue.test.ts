import { describe, expect, it } from 'vitest';
import { common, minimal } from 'node-mavlink';
import {
  MavCmd, MavFrame, MavLandedState, MavMissionResult, MavMissionType, MavModeFlag, MavResult, MavSeverity, MavState, MissionState,
} from '../src/domain/mav-enums.js';
import { PX4_MODES, encodeBaseMode, encodeCustomMode, modeName, px4ModeFrom } from '../src/domain/px4-mode.js';
import { SimError, SimErrorCodes } from '../src/errors.js';

/** Every domain constant must carry the same number as node-mavlink's enum of the same name. */
function pinned(ours: Record<string, number>, theirs: Record<string, string | number>): void {
  for (const [name, value] of Object.entries(ours)) expect([name, theirs[name]]).toEqual([name, value]);
}

describe('domain MAVLink constants', () => {
  it('match node-mavlink (common.xml / minimal.xml)', () => {
    pinned(MavCmd, common.MavCmd);
    pinned(MavResult, common.MavResult);
    pinned(MavMissionResult, common.MavMissionResult);
    pinned(MavMissionType, common.MavMissionType);
    pinned(MavFrame, common.MavFrame);
    pinned(MavLandedState, common.MavLandedState);
    pinned(MissionState, common.MissionState);
    pinned(MavSeverity, common.MavSeverity);
    pinned(MavModeFlag, minimal.MavModeFlag);
    pinned(MavState, minimal.MavState);
  });
});

describe('PX4 modes', () => {
  it('pack main mode in bits 16–23 and sub mode in bits 24–31', () => {
    expect(encodeCustomMode(PX4_MODES.AUTO_MISSION)).toBe(0x04040000);
    expect(encodeCustomMode(PX4_MODES.AUTO_MISSION)).toBe(67371008);
    expect(encodeCustomMode(PX4_MODES.AUTO_LOITER)).toBe(0x03040000);
    expect(encodeCustomMode(PX4_MODES.AUTO_RTL)).toBe(0x05040000);
    expect(encodeCustomMode(PX4_MODES.AUTO_LAND)).toBe(0x06040000);
    expect(encodeCustomMode(PX4_MODES.POSCTL)).toBe(0x00030000);
    expect(modeName(PX4_MODES.AUTO_TAKEOFF)).toBe('AUTO.TAKEOFF');
    expect(px4ModeFrom(4, 0)).toBeNull();
    expect(px4ModeFrom(9, 0)).toBeNull();
    expect(px4ModeFrom(7, 3)).toEqual(PX4_MODES.STABILIZED);
  });

  it('set base_mode flags the way PX4 does', () => {
    const F = MavModeFlag;
    expect(encodeBaseMode(PX4_MODES.AUTO_MISSION, false)).toBe(F.CUSTOM_MODE_ENABLED | F.AUTO_ENABLED | F.STABILIZE_ENABLED | F.GUIDED_ENABLED);
    expect(encodeBaseMode(PX4_MODES.AUTO_MISSION, true) & F.SAFETY_ARMED).toBe(F.SAFETY_ARMED);
    expect(encodeBaseMode(PX4_MODES.ACRO, false)).toBe(F.CUSTOM_MODE_ENABLED | F.MANUAL_INPUT_ENABLED);
  });
});

describe('error catalogue', () => {
  it('is pinned: codes are a public contract', () => {
    expect(Object.keys(SimErrorCodes).sort()).toEqual(['SIM_ERR_BIND', 'SIM_ERR_CONFIG', 'SIM_ERR_OPTIONS', 'SIM_ERR_SCENARIO', 'SIM_ERR_TIMEOUT']);
    const err = new SimError('SIM_ERR_CONFIG');
    expect(err).toMatchObject({ code: 'SIM_ERR_CONFIG', message: SimErrorCodes.SIM_ERR_CONFIG, name: 'SimError' });
  });
});
