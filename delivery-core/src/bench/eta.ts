#!/usr/bin/env node
/**
 * bench:eta — ETA error over deliveries flown by the simulator's own flight model in gusty
 * wind: @aerie/simulator's physics step (point-mass multicopter, ground-speed target capped by
 * airspeed, acceleration, climb and slow final descent), its WindField (mean plus seeded
 * Ornstein–Uhlenbeck gusts) and its autopilot guidance (takeoff, go-to with a 2 m acceptance
 * radius, land), sequenced as the mission the hub uploads: take off, fly to the pickup, land,
 * wait on the ground, take off, fly to the dropoff, land. The simulator is the ground truth;
 * the core predicts with its own model (domain/eta.ts) from a forecast wind that is off by up
 * to ±15 % in speed and ±15° in direction, corrected online per drone from the ground speed
 * observed every 2 s (SpeedLearner), as the service does with DroneStatus.
 *
 * Error = |predicted − actual| / actual flight time, at dispatch and at half-way along the
 * dropoff leg. The baseline is the same model without wind.
 *
 * Usage: node delivery-core/dist/bench/eta.js [--smoke] [--deliveries N] [--seed S]
 * Last line: {"bench":"eta","deliveries":N,"median_pct":..,"p90_pct":..,...}
 */
import { parseArgs } from 'node:util';
import { haversineM, type LatLon } from '@aerie/contracts';
import {
  DEFAULT_PHYSICS, Rng, WindField, goTo, groundSpeedMs as simGroundSpeed, guide, land, restingAt, seedFor, step, takeoff,
  type Kinematics, type Maneuver,
} from '@aerie/simulator';
import { courseDeg, groundSpeedMs, type Wind } from '../domain/wind.js';
import { remainingSeconds, type FlightProfile } from '../domain/eta.js';
import { SpeedLearner } from '../domain/speed-learner.js';

const { values } = parseArgs({ options: { smoke: { type: 'boolean', default: false }, deliveries: { type: 'string' }, seed: { type: 'string' } } });
const N = Number(values.deliveries ?? (values.smoke ? 30 : 300));
const seed = Number(values.seed ?? 11);

const ALT_M = 30;
const GROUND_DELAY_S = 5;
const DT_S = 0.1;
// The core's model of the airframe: the figures the simulator's airframe publishes, not its code.
const phys = DEFAULT_PHYSICS;
const profile: FlightProfile = {
  cruiseSpeedMs: phys.cruiseSpeedMs, climbRateMs: phys.climbRateMs, descentRateMs: phys.descentRateMs, cruiseAltM: ALT_M, groundDelayS: GROUND_DELAY_S,
  maxAirspeedMs: phys.maxAirspeedMs, horizontalAccelMs2: phys.horizontalAccelMs2, slowDescentBelowM: phys.slowDescentBelowM, slowDescentRateMs: phys.slowDescentRateMs,
};
const ORIGIN = { lat: 47.3769, lon: 8.5417 };
const M_LAT = 111_195;
const M_LON = M_LAT * Math.cos((ORIGIN.lat * Math.PI) / 180);
const toLatLon = (x: number, y: number): LatLon => ({ lat: ORIGIN.lat + y / M_LAT, lon: ORIGIN.lon + x / M_LON });

interface Flight { actualS: number; dispatchS: number; halfEtaS: number; noWindS: number }

/** Flies start → pickup → dropoff through the simulator's model; returns the truth and the predictions. */
function fly(i: number): Flight {
  const r = new Rng(seedFor(seed, i));
  const meanMs = r.next() * 10;
  const fromDeg = r.next() * 360;
  const wind = new WindField({ meanMs, fromDeg, gustMs: 0.15 * meanMs + 0.5, gustTimeS: 5 }, r);
  const forecast: Wind = { speedMs: meanMs * (0.85 + 0.3 * r.next()), fromDeg: fromDeg + (r.next() * 30 - 15) };
  const polar = (d: number) => { const a = r.next() * 2 * Math.PI; return { x: d * Math.cos(a), y: d * Math.sin(a) }; };
  const s = polar(300 + r.next() * 1500);
  const p = polar(r.next() * 800);
  const leg = polar(500 + r.next() * 3500);
  const [start, pickup, dropoff] = [toLatLon(s.x, s.y), toLatLon(p.x, p.y), toLatLon(p.x + leg.x, p.y + leg.y)];
  const withWind = { ...profile, wind: forecast };
  const dispatchS = remainingSeconds(withWind, 'Scheduled', start, pickup, dropoff);
  const noWindS = remainingSeconds(profile, 'Scheduled', start, pickup, dropoff);
  const learner = new SpeedLearner();
  const drone = `drone-${i}`;
  let kin: Kinematics = restingAt(start);
  let t = 0;
  let halfEtaS = NaN;
  const run = (first: Maneuver, onTick?: () => void) => {
    let m = first;
    for (;;) {
      const g = guide(m, { kin, home: start, nowS: t });
      if (g.done) return;
      m = g.maneuver;
      kin = step(kin, g.target, DT_S, phys, wind.step(DT_S));
      t += DT_S;
      onTick?.();
    }
  };
  // What the core sees every 2 s in flight: DroneStatus ground speed against the model on this course.
  const cruise = (to: LatLon, legName: string, onHalf?: () => void) => {
    const total = haversineM(kin, to);
    let lastLearn = t;
    run(goTo(to, ALT_M, 2, 0), () => {
      const dist = haversineM(kin, to);
      if (t - lastLearn >= 2 && dist > 100) {
        lastLearn = t;
        const modelled = groundSpeedMs(profile.cruiseSpeedMs, courseDeg(kin, to), forecast, profile.maxAirspeedMs);
        if (modelled !== null) learner.observe(drone, legName, simGroundSpeed(kin), modelled);
      }
      if (onHalf && Number.isNaN(halfEtaS) && dist <= total / 2) onHalf();
    });
  };
  run(takeoff(kin, ALT_M));
  cruise(pickup, 'pickup');
  run(land(kin, pickup));
  // On the ground with the motors idle; the gusts go on.
  for (const end = t + GROUND_DELAY_S; t < end - 1e-9; t += DT_S) wind.step(DT_S);
  run(takeoff(kin, ALT_M));
  cruise(dropoff, 'dropoff', () => {
    const here = { lat: kin.lat, lon: kin.lon, altRel: kin.relAltM };
    halfEtaS = t + remainingSeconds(withWind, 'HeadedToDropoff', here, pickup, dropoff, learner.factor(drone, 'dropoff'));
  });
  run(land(kin, dropoff));
  return { actualS: t, dispatchS, halfEtaS, noWindS };
}

const pct = (xs: number[], q: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};
const round2 = (x: number) => Math.round(x * 100) / 100;
const flights = Array.from({ length: N }, (_, i) => fly(i));
const err = (f: Flight, predicted: number) => (100 * Math.abs(predicted - f.actualS)) / f.actualS;
const dispatch = flights.map((f) => err(f, f.dispatchS));
const half = flights.map((f) => err(f, f.halfEtaS));
const still = flights.map((f) => err(f, f.noWindS));
console.log(`${N} deliveries flown by @aerie/simulator's step/WindField/guidance, mean wind 0–10 m/s with gusts, flight ${Math.round(pct(flights.map((f) => f.actualS), 0.5))} s median; `
  + `error at dispatch median ${pct(dispatch, 0.5).toFixed(2)} % p90 ${pct(dispatch, 0.9).toFixed(2)} %, at half-way median ${pct(half, 0.5).toFixed(2)} % p90 ${pct(half, 0.9).toFixed(2)} %; `
  + `without wind in the model: median ${pct(still, 0.5).toFixed(2)} % p90 ${pct(still, 0.9).toFixed(2)} %`);
console.log(JSON.stringify({
  bench: 'eta', deliveries: N, median_pct: round2(pct(dispatch, 0.5)), p90_pct: round2(pct(dispatch, 0.9)),
  half_median_pct: round2(pct(half, 0.5)), half_p90_pct: round2(pct(half, 0.9)),
  baseline_no_wind_median_pct: round2(pct(still, 0.5)), baseline_no_wind_p90_pct: round2(pct(still, 0.9)),
}));
