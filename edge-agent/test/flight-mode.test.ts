import { describe, expect, it } from 'vitest';
import { arduVehicleOf, decodeFlightMode } from '../src/index.js';

const ARDU = 3;
const PX4 = 12;
const CUSTOM = 1;
const px4 = (main: number, sub = 0): number => ((sub << 24) | (main << 16)) >>> 0;

describe('flight modes, normalised with the autopilot\'s own name and raw value', () => {
  it.each([
    // [MAV_TYPE, custom_mode, own name, normalised]
    [2, 5, 'LOITER', 'HOLD'], [13, 21, 'SMART_RTL', 'RETURN'], [4, 16, 'POSHOLD', 'POSITION'],
    [1, 5, 'FBWA', 'STABILIZED'], [1, 10, 'AUTO', 'MISSION'], [20, 19, 'QLOITER', 'POSITION'], [22, 21, 'QRTL', 'RETURN'],
    [10, 4, 'HOLD', 'HOLD'], [11, 10, 'AUTO', 'MISSION'], [10, 12, 'SMART_RTL', 'RETURN'],
    [12, 19, 'MANUAL', 'MANUAL'], [12, 2, 'ALT_HOLD', 'ALTITUDE'], [12, 9, 'SURFACE', 'RETURN'],
  ] as const)('ArduPilot type %i mode %i is %s (%s)', (type, custom, name, mode) => {
    expect(decodeFlightMode(ARDU, CUSTOM, custom, type)).toEqual({ mode, raw: name, customMode: custom });
  });

  it('picks the ArduPilot firmware from HEARTBEAT.type', () => {
    expect([2, 3, 4, 13, 14, 15, 29].map(arduVehicleOf)).toEqual(Array(7).fill('copter'));
    expect([1, 19, 20, 21, 22, 23, 24, 25].map(arduVehicleOf)).toEqual(Array(8).fill('plane'));
    expect([10, 11, 12].map(arduVehicleOf)).toEqual(['rover', 'rover', 'sub']);
  });

  it('decodes PX4 main and sub modes', () => {
    expect(decodeFlightMode(PX4, CUSTOM, px4(3, 1))).toMatchObject({ mode: 'GUIDED', raw: 'POSCTL.ORBIT' });
    expect(decodeFlightMode(PX4, CUSTOM, px4(4, 5))).toMatchObject({ mode: 'RETURN', raw: 'AUTO.RTL' });
    expect(decodeFlightMode(PX4, CUSTOM, px4(4, 10))).toMatchObject({ mode: 'TAKEOFF', raw: 'AUTO.VTOL_TAKEOFF' });
    expect(decodeFlightMode(PX4, CUSTOM, px4(7))).toMatchObject({ mode: 'STABILIZED', raw: 'STABILIZED' });
  });

  it('keeps unknown numbers visible instead of guessing', () => {
    expect(decodeFlightMode(ARDU, CUSTOM, 99, 10)).toEqual({ mode: 'UNKNOWN', raw: 'ardurover:99', customMode: 99 });
    expect(decodeFlightMode(PX4, 0, 0)).toMatchObject({ mode: 'UNKNOWN', raw: 'base:0' });
  });
});
