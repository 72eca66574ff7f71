import { describe, expect, it } from 'vitest';
import { toLine } from '../src/domain/point.js';
import { alertPoint, alertSeverity, deliveryPoint, droneState, statusPoint } from '../src/domain/measurements.js';
import { downsample } from '../src/domain/downsample.js';
import { makeStatus } from './helpers/status.js';

describe('line protocol', () => {
  it('escapes per the InfluxDB line protocol reference and sorts tags', () => {
    const line = toLine({
      measurement: 'a b,c',
      tags: { z: 'x=y', a: 'p q,r' },
      fields: { 'f k': 'say "hi" \\ there', n: 3, b: true, x: 0.25 },
      tsMs: 1_700_000_000_123,
    });
    expect(line).toBe('a\\ b\\,c,a=p\\ q\\,r,z=x\\=y f\\ k="say \\"hi\\" \\\\ there",n=3.0,b=true,x=0.25 1700000000123');
  });

  it('leaves out NaN and infinite fields and empty tags instead of failing the batch', () => {
    expect(toLine({ measurement: 'm', tags: { t: '' }, fields: { a: Number.NaN, b: Infinity, c: 1 }, tsMs: 5 })).toBe('m c=1.0 5');
  });
});

describe('measurement design', () => {
  it('tags drone_status with identities only, so series count is the fleet size', () => {
    const p = statusPoint(makeStatus({ seq: 99, bootId: 'boot-z' }), 'zurich');
    expect(p.tags).toEqual({ drone_id: 'drone-1', autopilot: 'px4', fleet: 'zurich' });
    expect(p.tsMs).toBe(makeStatus().ts);
    expect(p.fields).toMatchObject({ lat: 47.397742, lon: 8.545594, alt: 488.2, battery_pct: 87, sats: 14, mode: 'MISSION', armed: true, state: 'flying' });
  });

  it('carries seq (an integer) and boot_id as fields, never tags, so a status is accounted for by its id', () => {
    const p = statusPoint(makeStatus({ seq: 99, bootId: 'boot-z' }), 'zurich');
    expect(p.fields).toMatchObject({ seq: 99, boot_id: 'boot-z' });
    expect(Object.keys(p.tags)).not.toContain('seq');
    expect(toLine(p)).toMatch(/[ ,]seq=99i[, ]/);
    expect(toLine(p)).toMatch(/[ ,]boot_id="boot-z"[, ]/);
    // Only the named integer fields: every other number stays a float, so no field changes type.
    expect(toLine(p)).toMatch(/[ ,]sats=14\.0[, ]/);
    expect(toLine({ measurement: 'm', tags: {}, fields: { seq: 1.5, n: 2 }, tsMs: 1, ints: ['seq'] })).toBe('m seq=1.5,n=2.0 1');
  });

  it('leaves absent values out rather than writing zeros', () => {
    const p = statusPoint(makeStatus({ position: null, battery: { pct: null, voltage: 15, current: null }, gps: { fix: 0, satellites: 0, hdop: null } }), 'f');
    for (const k of ['lat', 'lon', 'alt', 'battery_pct', 'current', 'hdop']) expect(p.fields).not.toHaveProperty(k);
  });

  it('derives one state per drone for the map colours', () => {
    const s = makeStatus();
    expect(droneState({ ...s, health: { sensorsHealthy: true, failsafe: true } })).toBe('failsafe');
    expect(droneState({ ...s, flightMode: 'RETURN' })).toBe('returning');
    expect(droneState({ ...s, landedState: 'LANDING' })).toBe('landing');
    expect(droneState({ ...s, landedState: 'ON_GROUND', armed: true })).toBe('armed');
    expect(droneState({ ...s, landedState: 'ON_GROUND', armed: false, flightMode: 'HOLD' })).toBe('idle');
  });

  it('judges on-time against the promise, and folds MAV_SEVERITY into three levels', () => {
    const d = deliveryPoint({ deliveryId: 'd', droneId: 'x', stage: 'Completed', tsMs: 10_000, promisedMs: 4000 }, 'f');
    expect(d.fields).toMatchObject({ terminal: 1, late_s: 6, on_time: 0 });
    expect(deliveryPoint({ deliveryId: 'd', droneId: 'x', stage: 'HeadedToDropoff', tsMs: 1, etaS: 30 }, 'f').fields).toEqual({ stage_s: 'HeadedToDropoff', terminal: 0, eta_s: 30 });
    expect([0, 2, 3, 4, 5, 7].map(alertSeverity)).toEqual(['critical', 'critical', 'warning', 'warning', 'info', 'info']);
    expect(alertPoint({ droneId: 'x', kind: 'failsafe_raised', severity: 'critical', message: 'm', tsMs: 1 }, 'f').tags).toEqual({ drone_id: 'x', kind: 'failsafe_raised', severity: 'critical', fleet: 'f' });
  });

  it('downsamples to bucket means per series, labelled by bucket start, keeping the last string', () => {
    const pts = [0, 20_000, 40_000, 60_000].map((t, i) => ({ measurement: 'm', tags: { d: 'a' }, fields: { v: i, s: `s${i}` }, tsMs: t }));
    expect(downsample(pts, 60_000)).toEqual([
      { measurement: 'm', tags: { d: 'a' }, fields: { s: 's2', v: 1 }, tsMs: 0 },
      { measurement: 'm', tags: { d: 'a' }, fields: { s: 's3', v: 3 }, tsMs: 60_000 },
    ]);
  });
});
