import { describe, expect, it } from 'vitest';
import { DEFAULT_BATTERY, powerDrawW, restingAt, step, type Kinematics } from '../src/domain/physics.js';
import { horizontalDistanceM } from '../src/domain/geo.js';
import { MavResult } from '../src/domain/mav-enums.js';
import { Bench, HOME, at } from './harness.js';

const ARM = 400;
const TAKEOFF = 22;

function airborne(b: Bench, altM = 20): void {
  expect(b.command(ARM, [1])).toBe(MavResult.ACCEPTED);
  b.command(TAKEOFF, [0, 0, 0, 0, 0, 0, altM]);
  expect(b.fly((s) => s.position.relAltM > altM - 0.5, 30)).toBe(true);
}

describe('energy', () => {
  it('cruising at 12 m/s with a 0.5 kg payload costs about 0.08 MJ/km, less without the payload', () => {
    // Cruise power over the middle 2 km of a straight 3 km leg (after the acceleration).
    const cruise = (payloadKg: number): number => {
      let k: Kinematics = { ...restingAt(HOME), relAltM: 30, onGround: false };
      const target = { kind: 'position' as const, ...at(5000, 0), relAltM: 30 };
      let joules = 0;
      const start = k;
      while (horizontalDistanceM(start, k) < 3000) {
        k = step(k, target, 0.1);
        if (horizontalDistanceM(start, k) > 1000) {
          const ratio = (DEFAULT_BATTERY.massKg + payloadKg) / DEFAULT_BATTERY.massKg;
          joules += (DEFAULT_BATTERY.hoverPowerW * ratio ** 1.5 + DEFAULT_BATTERY.powerPerMsW * Math.hypot(k.northMs, k.eastMs) * ratio) * 0.1;
        }
      }
      return joules / 2; // per km over the 2 km at cruise
    };
    const withPayload = cruise(0.5);
    expect(withPayload / 1e6).toBeGreaterThan(0.072);
    expect(withPayload / 1e6).toBeLessThan(0.088);
    expect(cruise(0)).toBeLessThan(withPayload * 0.85);
  });

  it('a vehicle drains more climbing and carrying a payload (energy follows climb and mass)', () => {
    const drain = (payloadKg: number, altM: number): number => {
      const b = new Bench({ payloadKg });
      airborne(b, altM);
      b.fly(() => false, 60 - altM / 3);
      return DEFAULT_BATTERY.capacityWh - b.snapshot().battery.energyWh;
    };
    expect(drain(0.5, 10)).toBeGreaterThan(drain(0, 10));
    expect(drain(0, 60)).toBeGreaterThan(drain(0, 10));
  });
});

describe('wind and GPS', () => {
  it('a headwind beyond the airspeed margin slows the vehicle over the ground; a tailwind saves power; gusts are seeded', () => {
    const fly = (windNorthMs: number): { speed: number; powerW: number } => {
      let k: Kinematics = { ...restingAt(HOME), relAltM: 20, onGround: false };
      const target = { kind: 'position' as const, ...at(3000, 0), relAltM: 20 };
      const wind = { northMs: windNorthMs, eastMs: 0 };
      for (let i = 0; i < 300; i++) k = step(k, target, 0.1, undefined, wind);
      return { speed: Math.hypot(k.northMs, k.eastMs), powerW: powerDrawW(k, true, DEFAULT_BATTERY, 0, wind) };
    };
    // Flying north: wind towards the south is a headwind. 16 m/s of air minus 8 of wind.
    expect(fly(-8).speed).toBeCloseTo(8, 1);
    expect(fly(-3).speed).toBeCloseTo(12, 1);
    expect(fly(5).speed).toBeCloseTo(12, 1);
    expect(fly(5).powerW).toBeLessThan(fly(0).powerW);
    expect(fly(-3).powerW).toBeGreaterThan(fly(0).powerW);
    const gusts = (seed: number): number[] => {
      const b = new Bench({ seed, wind: { meanMs: 3, fromDeg: 90, gustMs: 2 } });
      return Array.from({ length: 5 }, () => (b.vehicle.step(1), b.snapshot().wind.northMs));
    };
    expect(gusts(7)).toEqual(gusts(7));
    expect(gusts(7)).not.toEqual(gusts(8));
  });

  it('GPS_RAW noise is seeded and sized by noiseM; the fix quality is configurable', () => {
    const b = new Bench({ seed: 3, gps: { noiseM: 2, satellites: 9, hdop: 1.4 } });
    const s = b.snapshot();
    expect(s.gps).toMatchObject({ fixType: 3, satellites: 9, hdop: 1.4 });
    expect(Math.abs(s.gps.noiseNorthM!)).toBeLessThan(10);
    expect(new Bench({ seed: 3, gps: { noiseM: 2 } }).snapshot().gps.noiseNorthM).toBe(s.gps.noiseNorthM);
  });
});

describe('failsafes (ArduPilot-style)', () => {
  it('low battery → RTL, then critical battery → LAND', () => {
    const b = new Bench({ personality: 'ardupilot' });
    airborne(b);
    b.vehicle.sagBattery(81);
    b.fly(() => false, 0.2);
    expect(b.snapshot()).toMatchObject({ modeName: 'RTL', failsafe: 'battery-low' });
    expect(b.texts()).toContain('Battery failsafe: low');
    b.vehicle.sagBattery(10);
    b.fly(() => false, 0.2);
    expect(b.snapshot()).toMatchObject({ modeName: 'LAND', failsafe: 'battery-critical' });
    expect(b.fly((s) => !s.armed, 60)).toBe(true);
  });

  it('GPS loss in the air → LAND (FS_EKF_ACTION 1) or hold (2)', () => {
    const b = new Bench({ personality: 'ardupilot' });
    airborne(b);
    b.vehicle.setFaults({ gpsNoFix: true });
    b.fly(() => false, 0.2);
    expect(b.snapshot()).toMatchObject({ modeName: 'LAND', failsafe: 'gps-loss' });
    const h = new Bench({ personality: 'ardupilot', params: { FS_EKF_ACTION: 2 } });
    airborne(h);
    h.command(176, [1, 4]);
    h.vehicle.setFaults({ gpsNoFix: true });
    h.fly(() => false, 0.2);
    expect(h.snapshot().modeName).toBe('LOITER');
  });

  it('link loss → RTL after FS_GCS_TIMEOUT, only once a ground station was heard', () => {
    const b = new Bench({ personality: 'ardupilot', params: { FS_GCS_ENABLE: 1, FS_GCS_TIMEOUT: 5 } });
    airborne(b);
    b.fly(() => false, 10);
    expect(b.snapshot().failsafe).toBeNull();
    b.send({ kind: 'gcs-heartbeat', targetSystem: 0 });
    b.fly(() => false, 4);
    expect(b.snapshot().failsafe).toBeNull();
    b.fly(() => false, 1.5);
    expect(b.snapshot()).toMatchObject({ modeName: 'RTL', failsafe: 'link-loss' });
    expect(b.texts()).toContain('GCS Failsafe');
  });

  it('geofence breach → RTL (PX4 GF_ACTION 3)', () => {
    const b = new Bench({ params: { GF_ACTION: 3, GF_MAX_HOR_DIST: 50 } });
    airborne(b);
    b.vehicle.startMission(0);
    b.vehicle.switchMode({ main: 4, sub: 3 });
    // Fly out with a far hold target: a mission would do the same.
    b.upload([{ seq: 0, frame: 6, command: 16, param1: 0, param2: 0, param3: 0, param4: Number.NaN, x: Math.round(at(300, 0).lat * 1e7), y: Math.round(at(300, 0).lon * 1e7), z: 20, autocontinue: 1 }]);
    b.command(300, [0]);
    expect(b.fly((s) => s.failsafe === 'geofence', 60)).toBe(true);
    expect(b.snapshot().modeName).toBe('AUTO.RTL');
    expect(horizontalDistanceM(b.snapshot().position, HOME)).toBeLessThan(70);
  });

  it('a motor failure lands the vehicle, holds the mode, and keeps it from arming again', () => {
    const b = new Bench();
    airborne(b);
    b.vehicle.setFaults({ motorFailure: true });
    b.fly(() => false, 0.2);
    expect(b.snapshot()).toMatchObject({ modeName: 'AUTO.LAND', failsafe: 'motor-failure' });
    expect(b.command(176, [1, 4, 5])).toBe(MavResult.TEMPORARILY_REJECTED);
    expect(b.fly((s) => !s.armed, 60)).toBe(true);
    expect(b.command(ARM, [1])).toBe(MavResult.DENIED);
  });

  it('a stuck vehicle stops moving whatever it is told', () => {
    const b = new Bench();
    airborne(b);
    b.vehicle.setFaults({ stuck: true });
    const before = b.snapshot().position;
    b.command(20);
    b.fly(() => false, 10);
    expect(b.snapshot().position).toEqual(before);
  });
});
