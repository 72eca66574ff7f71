import { describe, expect, it } from 'vitest';
import type { Clock } from '@aerie/contracts';
import { ManualClock, WarpClock } from '../src/domain/warp-clock.js';
import {
  DEFAULT_BATTERY, batteryReadout, drainWh, powerDrawW, restingAt, step, type FlightTarget, type Kinematics,
} from '../src/domain/physics.js';
import { horizontalDistanceM } from '../src/domain/geo.js';
import { HOME, at } from './harness.js';

describe('ManualClock', () => {
  it('fires due timers in order, intervals repeatedly, and not cleared ones', () => {
    const c = new ManualClock(1000);
    const log: string[] = [];
    c.setTimeout(() => log.push(`b@${c.now()}`), 200);
    c.setTimeout(() => log.push(`a@${c.now()}`), 100);
    const i = c.setInterval(() => log.push(`i@${c.now()}`), 150);
    const gone = c.setTimeout(() => log.push('never'), 50);
    c.clearTimeout(gone);
    c.advance(300);
    expect(log).toEqual(['a@1100', 'i@1150', 'b@1200', 'i@1300']);
    expect(c.now()).toBe(1300);
    c.clearInterval(i);
    expect(c.pendingTimers).toBe(0);
  });

  it('fires a timer set by a firing timer within the same advance', () => {
    const c = new ManualClock();
    const log: number[] = [];
    c.setTimeout(() => c.setTimeout(() => log.push(c.now()), 10), 10);
    c.advance(25);
    expect(log).toEqual([20]);
  });
});

describe('WarpClock', () => {
  function fakeReal(): Clock & { t: number; delays: number[] } {
    const real = {
      t: 5000,
      delays: [] as number[],
      now: () => real.t,
      setTimeout: (_fn: () => void, ms: number) => real.delays.push(ms),
      clearTimeout: () => undefined,
      setInterval: (_fn: () => void, ms: number) => real.delays.push(ms),
      clearInterval: () => undefined,
    };
    return real;
  }

  it('runs virtual time speedup times faster and shrinks delays, never below 1 ms', () => {
    const real = fakeReal();
    const warp = new WarpClock({ speedup: 50, startMs: 0, real });
    real.t += 100;
    expect(warp.now()).toBe(5000);
    warp.setTimeout(() => undefined, 1500);
    warp.setInterval(() => undefined, 20);
    expect(real.delays).toEqual([30, 1]);
  });

  it('rejects a non-positive speedup', () => {
    expect(() => new WarpClock({ speedup: 0 })).toThrow(RangeError);
  });
});

describe('physics', () => {
  const fly = (k: Kinematics, target: FlightTarget, seconds: number): Kinematics => {
    for (let i = 0; i < seconds * 10; i++) k = step(k, target, 0.1);
    return k;
  };

  it('climbs at 3 m/s, straight up first, and cruises at 12 m/s with 3 m/s² acceleration', () => {
    const far = at(2000, 0);
    let k = step(restingAt(HOME), { kind: 'position', ...far, relAltM: 30 }, 0.1);
    expect(k.onGround).toBe(false);
    expect(k.upMs).toBeCloseTo(3);
    expect(k.northMs).toBe(0);
    k = fly(k, { kind: 'position', ...far, relAltM: 30 }, 2);
    expect(k.northMs).toBeGreaterThan(0);
    // Sideways only above 1 m (after 0.4 s), then at most 3 m/s².
    expect(k.northMs).toBeLessThanOrEqual(3 * 1.7 + 1e-9);
    k = fly(k, { kind: 'position', ...far, relAltM: 30 }, 10);
    expect(Math.hypot(k.northMs, k.eastMs)).toBeCloseTo(12, 5);
    expect(k.headingDeg).toBeCloseTo(0, 3);
  });

  it('brakes to a stop at the target without overshooting', () => {
    const target = at(0, 150);
    let k: Kinematics = { ...restingAt(HOME), relAltM: 10, onGround: false };
    let maxEast = 0;
    for (let i = 0; i < 600; i++) {
      k = step(k, { kind: 'position', ...target, relAltM: 10 }, 0.1);
      maxEast = Math.max(maxEast, horizontalDistanceM(HOME, k));
    }
    expect(horizontalDistanceM(k, target)).toBeLessThan(0.05);
    expect(maxEast).toBeLessThan(150.5);
    expect(k.headingDeg).toBeCloseTo(90, 1);
  });

  it('descends at 1.5 m/s, slows to 0.7 m/s below 5 m, and touches down', () => {
    let k: Kinematics = { ...restingAt(HOME), relAltM: 20, onGround: false };
    const down: FlightTarget = { kind: 'position', lat: HOME.lat, lon: HOME.lon, relAltM: 0 };
    k = step(k, down, 0.1);
    expect(k.upMs).toBeCloseTo(-1.5);
    k = fly(k, down, 10.5);
    expect(k.relAltM).toBeLessThan(5);
    expect(k.upMs).toBeCloseTo(-0.7);
    k = fly(k, down, 10);
    expect(k).toMatchObject({ onGround: true, relAltM: 0, upMs: 0 });
  });

  it('draws hover power (∝ mass^1.5) plus power per m/s of airspeed, and maps energy to a 4S voltage', () => {
    const hovering: Kinematics = { ...restingAt(HOME), relAltM: 10, onGround: false };
    expect(powerDrawW(hovering, true)).toBe(400);
    expect(powerDrawW({ ...hovering, northMs: 12 }, true)).toBeCloseTo(400 + 26.7 * 12, 6);
    // Flying with the wind at wind speed is hovering in the air mass.
    expect(powerDrawW({ ...hovering, northMs: 5 }, true, DEFAULT_BATTERY, 0, { northMs: 5, eastMs: 0 })).toBeCloseTo(400, 6);
    expect(powerDrawW(hovering, true, DEFAULT_BATTERY, 0.5)).toBeCloseTo(400 * 1.25 ** 1.5, 6);
    expect(powerDrawW(hovering, false)).toBe(0);
    expect(batteryReadout(DEFAULT_BATTERY.capacityWh, 0).voltageV).toBeCloseTo(16.8);
    expect(batteryReadout(0, 0).voltageV).toBeCloseTo(14.0);
    const half = batteryReadout(DEFAULT_BATTERY.capacityWh / 2, 300);
    expect(half.remainingPct).toBeCloseTo(50);
    expect(half.currentA).toBeCloseTo(300 / 15.4);
    expect(drainWh(250, 360, 3600)).toBe(0);
    expect(drainWh(250, 250, 36)).toBeCloseTo(247.5);
  });
});
