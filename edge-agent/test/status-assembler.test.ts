import { describe, expect, it } from 'vitest';
import { StatusAssembler, decodeFlightMode } from '../src/index.js';
import { validateMessage } from '@aerie/contracts';

describe('flight modes', () => {
  // HEARTBEATs from ../shared/data/pymavlink-vectors.json
  it('decodes the PX4 AUTO.MISSION heartbeat vector (custom_mode 67371008)', () => {
    expect(decodeFlightMode(12, 157, 67371008)).toMatchObject({ mode: 'MISSION', raw: 'AUTO.MISSION' });
  });
  it('decodes the ArduPilot vector (custom_mode 3 = AUTO on a copter)', () => {
    expect(decodeFlightMode(3, 217, 3)).toMatchObject({ mode: 'MISSION', raw: 'AUTO' });
  });
  it('keeps the raw value of an unknown mode', () => {
    expect(decodeFlightMode(12, 1, 0x63000000 | (4 << 16))).toMatchObject({ mode: 'UNKNOWN', raw: 'px4:4.99' });
  });
});

describe('StatusAssembler', () => {
  it('keeps known fields on a partial update and produces a valid DroneStatus', () => {
    const a = new StatusAssembler('drone-001');
    a.apply({ kind: 'heartbeat', autopilot: 12, vehicleType: 2, baseMode: 157, customMode: 67371008, systemStatus: 4 }, 1000);
    a.apply({ kind: 'position', lat: 47.397742, lon: 8.545594, altMsl: 488.12, altRel: 30.15, vx: 2.5, vy: -1.2, vz: -0.05, heading: 90 }, 1010);
    a.apply({ kind: 'sysStatus', voltage: 15.82, current: 12.5, remainingPct: 87, sensorsHealthy: true }, 1020);
    a.apply({ kind: 'gps', fix: 3, satellites: 17, hdop: 0.7 }, 1030);
    a.apply({ kind: 'extSysState', landedState: 2 }, 1040);
    // A later GPS message must not erase the position or the battery.
    a.apply({ kind: 'gps', fix: 3, satellites: 15, hdop: 0.9 }, 1050);
    const s = a.snapshot({ bootId: 'b', seq: 7, now: 1100 });
    expect(validateMessage('DroneStatus', s).ok).toBe(true);
    expect(s).toMatchObject({
      armed: true, flightMode: 'MISSION', landedState: 'IN_AIR', autopilot: 'px4',
      position: { lat: 47.397742, altRel: 30.15 }, battery: { pct: 87, voltage: 15.82 }, gps: { satellites: 15 },
      link: { fcConnected: true, fcHeartbeatAgeMs: 100 },
    });
  });

  it('raises link lost after the timeout once, and link recovered on the next heartbeat', () => {
    const a = new StatusAssembler('drone-001');
    const hb = { kind: 'heartbeat', autopilot: 12, vehicleType: 2, baseMode: 29, customMode: 0x03040000, systemStatus: 3 } as const;
    a.apply(hb, 0);
    expect(a.checkLink(2999, 3000)).toEqual([]);
    expect(a.checkLink(3000, 3000).map((e) => e.kind)).toEqual(['link_lost']);
    expect(a.checkLink(4000, 3000)).toEqual([]);
    expect(a.snapshot({ bootId: 'b', seq: 0, now: 4000 }).link.fcConnected).toBe(false);
    expect(a.apply(hb, 4100).map((e) => e.kind)).toEqual(['link_recovered']);
  });

  it('turns STATUSTEXT of warning or worse into events, and ignores info', () => {
    const a = new StatusAssembler('drone-001');
    expect(a.apply({ kind: 'statustext', severity: 2, text: 'Battery 1 is low 14.2V' }, 0)).toHaveLength(1);
    expect(a.apply({ kind: 'statustext', severity: 6, text: 'Takeoff detected' }, 0)).toHaveLength(0);
  });
});

describe('field ages', () => {
  it('a source not refreshed keeps its value and its age grows; a partial update never erases known fields', () => {
    const a = new StatusAssembler('d1');
    a.apply({ kind: 'heartbeat', autopilot: 3, vehicleType: 2, baseMode: 1, customMode: 5, systemStatus: 4 }, 1000);
    a.apply({ kind: 'position', lat: 47, lon: 8, altMsl: 500, altRel: 10, vx: 0, vy: 0, vz: 0, heading: null }, 1000);
    a.apply({ kind: 'battery', voltage: null, current: 3, remainingPct: null }, 5000);
    a.apply({ kind: 'heartbeat', autopilot: 3, vehicleType: 2, baseMode: 1, customMode: 5, systemStatus: 4 }, 41_000);
    const s = a.snapshot({ bootId: 'b', seq: 0, now: 41_000 });
    expect(s.position).toEqual({ lat: 47, lon: 8, altMsl: 500, altRel: 10 });
    expect(s.battery).toEqual({ pct: null, voltage: 0, current: 3 });
    expect(a.ages(41_000)).toEqual({ heartbeat: 0, position: 40_000, battery: 36_000 });
  });
});

describe('DroneStatus.ages (issue 3: a field not refreshed keeps its last value with its age)', () => {
  const hb = { kind: 'heartbeat', autopilot: 3, vehicleType: 2, baseMode: 1, customMode: 5, systemStatus: 4 } as const;

  it('carries per-group ages in the published status; an unrefreshed group keeps its value while its age grows', () => {
    const a = new StatusAssembler('d1');
    a.apply(hb, 1000);
    a.apply({ kind: 'position', lat: 47, lon: 8, altMsl: 500, altRel: 10, vx: 3, vy: 4, vz: 0, heading: 90 }, 1000);
    a.apply({ kind: 'sysStatus', voltage: 15.8, current: 2, remainingPct: 80, sensorsHealthy: true }, 2000);
    const first = a.snapshot({ bootId: 'b', seq: 0, now: 2500 });
    expect(validateMessage('DroneStatus', first).ok).toBe(true);
    expect(first.ages).toEqual({ position: 1500, speed: 1500, battery: 500, health: 500, mode: 1500 });

    // Only heartbeats and VFR_HUD from now on: position and battery are kept, and age.
    a.apply(hb, 9000);
    a.apply({ kind: 'vfrHud', groundSpeed: 7, climb: 0.5, heading: 180 }, 9000);
    const later = a.snapshot({ bootId: 'b', seq: 1, now: 10_000 });
    expect(validateMessage('DroneStatus', later).ok).toBe(true);
    expect(later.position).toEqual(first.position);
    expect(later.battery).toEqual(first.battery);
    expect(later.ages).toEqual({ position: 9000, speed: 1000, battery: 8000, health: 8000, mode: 1000 });
    expect(later.ages!.position!).toBeGreaterThan(first.ages!.position!);
  });

  it('a partial update never erases known fields, and only refreshes its own group', () => {
    const a = new StatusAssembler('d1');
    a.apply(hb, 0);
    a.apply({ kind: 'sysStatus', voltage: 15.8, current: 2, remainingPct: 80, sensorsHealthy: true }, 0);
    a.apply({ kind: 'gps', fix: 3, satellites: 12, hdop: 0.8 }, 0);
    a.apply({ kind: 'battery', voltage: null, current: null, remainingPct: 79 }, 4000);
    const s = a.snapshot({ bootId: 'b', seq: 0, now: 5000 });
    expect(s.battery).toEqual({ pct: 79, voltage: 15.8, current: 2 });
    expect(s.gps).toEqual({ fix: 3, satellites: 12, hdop: 0.8 });
    expect(s.ages).toMatchObject({ battery: 1000, gps: 5000, health: 5000 });
    expect(s.ages).not.toHaveProperty('position');
    expect(s.ages).not.toHaveProperty('landedState');
  });

  it('a status without ages (an older agent) is still a valid DroneStatus', () => {
    const a = new StatusAssembler('d1');
    a.apply(hb, 0);
    const { ages: _ages, ...withoutAges } = a.snapshot({ bootId: 'b', seq: 0, now: 0 });
    expect(validateMessage('DroneStatus', withoutAges).ok).toBe(true);
    expect(validateMessage('DroneStatus', { ...withoutAges, ages: { position: -1 } }).ok).toBe(false);
    expect(validateMessage('DroneStatus', { ...withoutAges, ages: { unknownGroup: 1 } }).ok).toBe(false);
  });
});
