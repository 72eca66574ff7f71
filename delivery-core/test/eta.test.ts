import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { haversineM, type DeliveryTracking } from '@aerie/contracts';
import { DeliveryService, MemoryDeliveryRepository, MemoryFleetLink, buildHttp, coreConfig, remainingSeconds } from '../src/index.js';
import { SpeedLearner } from '../src/domain/speed-learner.js';
import { groundSpeedMs } from '../src/domain/wind.js';
import { droneStatus } from '../../test-support/fixtures.js';

describe('wind-aware ETA', () => {
  it('a ground-speed-target drone keeps its speed until the headwind exceeds its airspeed margin', () => {
    expect(groundSpeedMs(12, 0, { speedMs: 3, fromDeg: 0 }, 16)).toBe(12);
    expect(groundSpeedMs(12, 0, { speedMs: 6, fromDeg: 0 }, 16)).toBeCloseTo(10, 6);
    expect(groundSpeedMs(12, 0, { speedMs: 6, fromDeg: 0 })).toBeCloseTo(6, 6);
  });

  it('a headwind leg takes longer than the same leg downwind', () => {
    const p = { ...coreConfig().profile, wind: { speedMs: 6, fromDeg: 0 } };
    const south = { lat: 47.39, lon: 8.54 };
    const north = { lat: 47.41, lon: 8.54 };
    expect(remainingSeconds(p, 'PickedUp', south, south, north)).toBeGreaterThan(remainingSeconds(p, 'PickedUp', north, north, south) + 100);
  });

  it('adds up take-off climb, cruise at the wind\'s ground speed with acceleration, descent with a slow landing, and loading time', () => {
    const p = { cruiseSpeedMs: 10, climbRateMs: 2, descentRateMs: 1.5, cruiseAltM: 30, groundDelayS: 20, horizontalAccelMs2: 2, slowDescentBelowM: 5, slowDescentRateMs: 0.5 };
    const pickup = { lat: 47.39, lon: 8.54 };
    const dropoff = { lat: 47.40, lon: 8.54 };
    const d = haversineM(pickup, dropoff);
    const climb = 30 / 2;
    const descent = 25 / 1.5 + 5 / 0.5;
    // Calm: cruise d/v plus v/a for speeding up and braking.
    const calmLeg = climb + (d / 10 + 10 / 2) + descent;
    expect(remainingSeconds(p, 'PickedUp', pickup, pickup, dropoff)).toBeCloseTo(20 + calmLeg, 6);
    // A drone waiting at the pickup: its (empty) leg there is a climb and a descent, then loading.
    expect(remainingSeconds(p, 'Scheduled', pickup, pickup, dropoff)).toBeCloseTo(climb + descent + 20 + calmLeg, 6);
    // 4 m/s from the north on a northbound leg: ground speed 6 m/s (no airspeed cap here).
    const north = { ...p, wind: { speedMs: 4, fromDeg: 0 } };
    expect(remainingSeconds(north, 'PickedUp', pickup, pickup, dropoff)).toBeCloseTo(20 + climb + (d / 6 + 6 / 2) + descent, 6);
    // In flight at cruise height, half-way: the rest of the cruise and the descent, no climb.
    const mid = { lat: 47.395, lon: 8.54, altRel: 30 };
    expect(remainingSeconds(p, 'HeadedToDropoff', mid, pickup, dropoff)).toBeCloseTo(haversineM(mid, dropoff) / 10 + 10 / 2 + descent, 6);
  });

  it('learns the ground-speed ratio per drone and leg, and starts over on a new leg', () => {
    const l = new SpeedLearner();
    l.observe('d', 'leg-1', 9, 12);
    expect(l.factor('d', 'leg-1')).toBeCloseTo(0.75, 6);
    l.observe('d', 'leg-1', 12, 12);
    expect(l.factor('d', 'leg-1')).toBeCloseTo(0.825, 6);
    expect(l.factor('d', 'leg-2')).toBe(1);
    expect(l.factor('other', 'leg-1')).toBe(1);
  });
});

describe('ETA in flight and its error', () => {
  it('slows the ETA when the drone is slower than modelled, and records the error at dispatch and half-way', async () => {
    let now = 1_700_000_000_000;
    const clock = { now: () => now, setTimeout: () => 0, clearTimeout: () => undefined, setInterval: () => 0, clearInterval: () => undefined };
    const fleet = new MemoryFleetLink();
    const service = new DeliveryService(new MemoryDeliveryRepository(), fleet, coreConfig({ dbPath: ':memory:', scheduling: { holdMs: 0 } }), clock);
    const app = buildHttp(service);
    const pickup = { lat: 47.39, lon: 8.54 };
    const dropoff = { lat: 47.41, lon: 8.54 };
    const track = (stage: DeliveryTracking['stage'], type: DeliveryTracking['type'], eventId: string): DeliveryTracking =>
      ({ v: 1, eventId, type, deliveryId: 'd1', droneId: 'drone-001', stage, ts: now, location: null, eta: null });
    fleet.pushStatus(droneStatus({ ts: now, position: { ...pickup, altMsl: 488, altRel: 0 } }));
    await app.inject({ method: 'PUT', url: '/api/v1/deliveries/d1', payload: { pickup, dropoff } });
    await service.schedulePending();
    const dispatched = (await service.get('d1')).delivery;
    expect(dispatched.etaAtDispatch).toBe(dispatched.eta);
    for (const [stage, type] of [['HeadedToPickup', 'DeliveryHeadedToPickup'], ['PickedUp', 'PackagePickedUp'], ['HeadedToDropoff', 'DeliveryHeadedToDropoff']] as const) {
      fleet.pushTracking(track(stage, type, stage));
    }
    await service.settled();
    // Cruising north at 6 m/s, half the modelled 12 m/s: two fixes on the first half, one past the middle.
    let seq = 1;
    const fix = async (lat: number) => {
      now += 2500;
      fleet.pushStatus(droneStatus({ seq: seq++, ts: now, armed: true, landedState: 'IN_AIR', groundSpeed: 6, position: { lat, lon: 8.54, altMsl: 518, altRel: 30 } }));
      await service.refreshEtas();
      return (await service.get('d1')).delivery;
    };
    await fix(47.393);
    const slow = await fix(47.395);
    const naive = now + remainingSeconds(coreConfig().profile, 'HeadedToDropoff', { lat: 47.395, lon: 8.54, altRel: 30 }, pickup, dropoff) * 1000;
    expect(slow.eta!).toBeGreaterThan(naive + 60_000);
    expect(slow.etaAtHalfway).toBeNull();
    const past = await fix(47.401);
    expect(past.etaAtHalfway).toBe(past.eta);
    now += 30_000;
    fleet.pushTracking(track('Completed', 'DeliveryCompleted', 'done'));
    await service.settled();
    const view = (await app.inject({ method: 'GET', url: '/api/v1/deliveries/d1' })).json<{ etaErrorS: { atDispatch: number; atHalfway: number } }>();
    expect(view.etaErrorS.atHalfway).toBeCloseTo((now - past.eta!) / 1000, 3);
    expect(view.etaErrorS.atDispatch).toBeCloseTo((now - dispatched.eta!) / 1000, 3);
    await app.close();
  });
});

describe('bench:eta smoke', () => {
  it('prints its figures as one JSON object on the last line, within the targets (median < 5 %, p90 < 10 %)', () => {
    const script = fileURLToPath(new URL('../dist/bench/eta.js', import.meta.url));
    const out = execFileSync(process.execPath, [script, '--smoke'], { encoding: 'utf8', timeout: 60_000 });
    const last = JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, number | string>;
    expect(Object.keys(last).slice(0, 4)).toEqual(['bench', 'deliveries', 'median_pct', 'p90_pct']);
    expect(last.deliveries).toBe(30);
    // Seeded (the simulator's wind and gusts, the forecast's error): the same figures every run,
    // so the targets hold on the smoke's 30 flights too, and the wind in the model pays.
    expect(last.median_pct as number).toBeLessThan(5);
    expect(last.p90_pct as number).toBeLessThan(10);
    expect(last.p90_pct as number).toBeLessThan(last.baseline_no_wind_p90_pct as number);
  });
});
