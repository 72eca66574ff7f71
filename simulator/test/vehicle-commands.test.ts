import { describe, expect, it } from 'vitest';
import { haversineM } from '@aerie/contracts';
import { FORCE_DISARM_MAGIC, MavLandedState, MavModeFlag, MavResult, MavSeverity } from '../src/domain/mav-enums.js';
import { PX4_MODES, encodeCustomMode } from '../src/domain/px4-mode.js';
import { Bench, HOME, at, landItem, plan, takeoffItem, waypointItem } from './harness.js';

const ARM = 400;
const SET_MODE = 176;
const MISSION_START = 300;
const RTL = 20;
const LAND = 21;
const TAKEOFF = 22;
const PAUSE_CONTINUE = 193;

function airborne(b: Bench, alt = 20): void {
  expect(b.command(ARM, [1])).toBe(MavResult.ACCEPTED);
  expect(b.command(TAKEOFF, [0, 0, 0, Number.NaN, Number.NaN, Number.NaN, alt])).toBe(MavResult.ACCEPTED);
  expect(b.fly((s) => s.customMode === encodeCustomMode(PX4_MODES.AUTO_LOITER), 60)).toBe(true);
}

describe('Vehicle commands', () => {
  it('boots disarmed on the ground at home in AUTO.LOITER', () => {
    const s = new Bench().snapshot();
    expect(s).toMatchObject({ armed: false, landedState: MavLandedState.ON_GROUND, customMode: 0x03040000, modeName: 'AUTO.LOITER' });
    expect(s.position).toMatchObject({ lat: HOME.lat, lon: HOME.lon, altMsl: HOME.altMsl, relAltM: 0 });
    expect(s.gps).toEqual({ fixType: 3, satellites: 14, hdop: 0.8 });
    expect(s.baseMode & MavModeFlag.SAFETY_ARMED).toBe(0);
  });

  it('refuses to arm without a 3D GPS fix', () => {
    const b = new Bench();
    b.vehicle.setFaults({ gpsNoFix: true });
    expect(b.command(ARM, [1])).toBe(MavResult.DENIED);
    expect(b.snapshot().armed).toBe(false);
    expect(b.out).toContainEqual({ kind: 'statustext', severity: MavSeverity.CRITICAL, text: 'Arming denied: no 3D GPS fix' });
    b.vehicle.setFaults({ gpsNoFix: false });
    expect(b.command(ARM, [1])).toBe(MavResult.ACCEPTED);
    expect(b.snapshot().baseMode & MavModeFlag.SAFETY_ARMED).toBe(MavModeFlag.SAFETY_ARMED);
  });

  it('answers an unknown command with UNSUPPORTED', () => {
    // MAV_CMD_DO_SET_SERVO: no servos on this airframe.
    expect(new Bench().command(183, [9, 1500])).toBe(MavResult.UNSUPPORTED);
  });

  it('ignores commands addressed to another system, accepts broadcast ones', () => {
    const b = new Bench();
    expect(b.command(ARM, [1], 7)).toBeUndefined();
    expect(b.command(ARM, [1], 0)).toBe(MavResult.ACCEPTED);
  });

  it('denies a disarm in flight unless forced with 21196, and a forced one falls', () => {
    const b = new Bench();
    airborne(b, 15);
    expect(b.command(ARM, [0])).toBe(MavResult.DENIED);
    expect(b.snapshot().armed).toBe(true);
    expect(b.command(ARM, [0, FORCE_DISARM_MAGIC])).toBe(MavResult.ACCEPTED);
    expect(b.fly((s) => s.landedState === MavLandedState.ON_GROUND, 10)).toBe(true);
    expect(b.snapshot().armed).toBe(false);
  });

  it('takes off to param7 metres and holds in AUTO.LOITER; denies takeoff while disarmed', () => {
    const b = new Bench();
    expect(b.command(TAKEOFF, [0, 0, 0, 0, 0, 0, 12])).toBe(MavResult.DENIED);
    airborne(b, 12);
    const s = b.snapshot();
    expect(s.position.relAltM).toBeCloseTo(12, 0);
    expect(s.landedState).toBe(MavLandedState.IN_AIR);
  });

  it('returns to launch on NAV_RETURN_TO_LAUNCH, climbing to 30 m, and lands disarmed', () => {
    const b = new Bench();
    b.upload(plan([takeoffItem(10), waypointItem(at(200, -100), 10)]));
    b.command(ARM, [1]);
    b.command(MISSION_START, [0]);
    expect(b.fly((s) => s.mission.seq === 1 && s.groundSpeedMs > 5, 60)).toBe(true);
    expect(b.command(RTL)).toBe(MavResult.ACCEPTED);
    let maxAlt = 0;
    expect(b.fly((s) => !s.armed, 200, (s) => (maxAlt = Math.max(maxAlt, s.position.relAltM)))).toBe(true);
    expect(maxAlt).toBeGreaterThanOrEqual(29.5);
    expect(haversineM(b.snapshot().position, HOME)).toBeLessThan(2);
    expect(b.snapshot()).toMatchObject({ landedState: MavLandedState.ON_GROUND, customMode: encodeCustomMode(PX4_MODES.AUTO_LOITER) });
  });

  it('lands where it is on NAV_LAND', () => {
    const b = new Bench();
    airborne(b, 10);
    const here = b.snapshot().position;
    expect(b.command(LAND)).toBe(MavResult.ACCEPTED);
    expect(b.snapshot().modeName).toBe('AUTO.LAND');
    expect(b.fly((s) => s.landedState === MavLandedState.LANDING, 2)).toBe(true);
    expect(b.fly((s) => !s.armed, 60)).toBe(true);
    expect(haversineM(b.snapshot().position, here)).toBeLessThan(0.5);
  });

  it('switches modes with DO_SET_MODE and refuses invalid ones', () => {
    const b = new Bench();
    expect(b.command(SET_MODE, [1, 4, 4])).toBe(MavResult.DENIED);
    expect(b.command(SET_MODE, [1, 4, 9])).toBe(MavResult.DENIED);
    expect(b.command(SET_MODE, [0, 3, 0])).toBe(MavResult.DENIED);
    expect(b.command(SET_MODE, [1, 6, 0])).toBe(MavResult.DENIED);
    expect(b.command(SET_MODE, [1, 3, 0])).toBe(MavResult.ACCEPTED);
    expect(b.snapshot()).toMatchObject({ modeName: 'POSCTL', customMode: 3 << 16 });
    expect(b.snapshot().baseMode).toBe(MavModeFlag.CUSTOM_MODE_ENABLED | MavModeFlag.MANUAL_INPUT_ENABLED | MavModeFlag.STABILIZE_ENABLED);
    b.upload(plan([takeoffItem(10)]));
    expect(b.command(SET_MODE, [1, 4, 4])).toBe(MavResult.ACCEPTED);
    expect(b.snapshot().customMode).toBe(67371008);
  });

  it('does not restart a running mission for a re-sent MISSION_START (confirmation > 0)', () => {
    const b = new Bench();
    b.upload(plan([takeoffItem(10), waypointItem(at(300, 0), 10), landItem(at(300, 0))]));
    b.command(ARM, [1]);
    expect(b.command(MISSION_START, [0], 1, 0)).toBe(MavResult.ACCEPTED);
    expect(b.fly((s) => s.mission.seq === 1, 30)).toBe(true);
    expect(b.command(MISSION_START, [0], 1, 1)).toBe(MavResult.ACCEPTED);
    expect(b.snapshot().mission.seq).toBe(1);
    expect(b.command(MISSION_START, [0], 1, 0)).toBe(MavResult.ACCEPTED);
    expect(b.snapshot().mission.seq).toBe(0);
  });

  it('denies MISSION_START without a mission or while disarmed', () => {
    const b = new Bench();
    b.command(ARM, [1]);
    expect(b.command(MISSION_START)).toBe(MavResult.DENIED);
    b.command(ARM, [0]);
    b.upload(plan([takeoffItem(10)]));
    expect(b.command(MISSION_START)).toBe(MavResult.DENIED);
  });

  it('pauses a mission in place with DO_PAUSE_CONTINUE 0 and resumes it with 1', () => {
    const b = new Bench();
    const target = at(400, 0);
    b.upload(plan([takeoffItem(10), waypointItem(target, 10), landItem(target)]));
    b.command(ARM, [1]);
    b.command(MISSION_START);
    expect(b.fly((s) => s.groundSpeedMs > 10, 60)).toBe(true);
    expect(b.command(PAUSE_CONTINUE, [0])).toBe(MavResult.ACCEPTED);
    expect(b.snapshot().modeName).toBe('AUTO.LOITER');
    b.fly(() => false, 20);
    const held = b.snapshot();
    expect(held.groundSpeedMs).toBeLessThan(0.1);
    b.fly(() => false, 5);
    expect(haversineM(b.snapshot().position, held.position)).toBeLessThan(0.1);
    expect(b.command(PAUSE_CONTINUE, [1])).toBe(MavResult.ACCEPTED);
    expect(b.snapshot().modeName).toBe('AUTO.MISSION');
    expect(b.fly((s) => !s.armed, 120)).toBe(true);
    expect(haversineM(b.snapshot().position, target)).toBeLessThan(3);
  });
});
