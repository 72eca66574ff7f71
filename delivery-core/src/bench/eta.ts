#!/usr/bin/env node
/**
 * bench:eta — ETA error over simulated deliveries in gusty wind. Each delivery is flown by a
 * point-mass multicopter with the simulator's physics (DEFAULT_PHYSICS of @aerie/simulator:
 * 12 m/s ground-speed target capped at 16 m/s airspeed, 3 m/s² horizontal acceleration, climb
 * 3 m/s, descent 1.5 m/s and 0.7 m/s below 5 m; gusts as an Ornstein–Uhlenbeck process like its
 * WindField). Those are mirrored here, not imported: the simulator's public index does not
 * export its step() and WindField. The core's flight model gets a forecast wind that is off by
 * up to ±15 % in speed and ±15° in direction, and the online per-drone correction
 * (SpeedLearner) from the observed ground speed in flight, every 2 s, as the service does.
 *
 * Error = |predicted − actual| / actual flight time at dispatch, at dispatch and at half-way
 * along the dropoff leg. The baseline is the same model without wind.
 *
 * Usage: node delivery-core/dist/bench/eta.js [--smoke] [--deliveries N] [--seed S]
 * Last line: {"bench":"eta","deliveries":N,"median_pct":..,"p90_pct":..,...}
 */
import { parseArgs } from 'node:util';
import type { LatLon } from '@aerie/contracts';
import { groundSpeedMs, courseDeg, type Wind } from '../domain/wind.js';
import { remainingSeconds, type FlightProfile } from '../domain/eta.js';
import { SpeedLearner } from '../domain/speed-learner.js';
import { rng } from './instances.js';

const { values } = parseArgs({ options: { smoke: { type: 'boolean', default: false }, deliveries: { type: 'string' }, seed: { type: 'string' } } });
const N = Number(values.deliveries ?? (values.smoke ? 30 : 300));
const r = rng(Number(values.seed ?? 11));
const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());

const PHYS = { accel: 3, cruise: 12, maxAir: 16, climb: 3, descent: 1.5, slowDescent: 0.7, slowBelow: 5, alt: 30, groundDelayS: 5 };
const profile: FlightProfile = {
  cruiseSpeedMs: PHYS.cruise, climbRateMs: PHYS.climb, descentRateMs: PHYS.descent, cruiseAltM: PHYS.alt, groundDelayS: PHYS.groundDelayS,
  maxAirspeedMs: PHYS.maxAir, horizontalAccelMs2: PHYS.accel, slowDescentBelowM: PHYS.slowBelow, slowDescentRateMs: PHYS.slowDescent,
};
const ORIGIN = { lat: 47.3769, lon: 8.5417 };
const M_LAT = 111_195;
const M_LON = M_LAT * Math.cos((ORIGIN.lat * Math.PI) / 180);
const toLatLon = (x: number, y: number): LatLon => ({ lat: ORIGIN.lat + y / M_LAT, lon: ORIGIN.lon + x / M_LON });

interface Flight { actualS: number; dispatchS: number; halfEtaS: number; noWindS: number }

/** Flies start → pickup → dropoff in gusty wind; returns the truth and the predictions. */
function fly(id: number): Flight {
  const dt = 0.1;
  const meanSpeed = r() * 10;
  const fromDeg = r() * 360;
  const gustSigma = 0.15 * meanSpeed + 0.5;
  const gustTau = 5;
  const forecast: Wind = { speedMs: meanSpeed * (0.85 + 0.3 * r()), fromDeg: fromDeg + (r() * 30 - 15) };
  const to = ((fromDeg + 180) * Math.PI) / 180;
  const mean = { x: meanSpeed * Math.sin(to), y: meanSpeed * Math.cos(to) };
  let gx = 0;
  let gy = 0;
  const polar = (d: number) => { const a = r() * 2 * Math.PI; return { x: d * Math.cos(a), y: d * Math.sin(a) }; };
  const start = polar(300 + r() * 1500);
  const pickupXY = polar(r() * 800);
  const leg = polar(500 + r() * 3500);
  const dropXY = { x: pickupXY.x + leg.x, y: pickupXY.y + leg.y };
  const [s, pickup, dropoff] = [toLatLon(start.x, start.y), toLatLon(pickupXY.x, pickupXY.y), toLatLon(dropXY.x, dropXY.y)];
  const withWind = { ...profile, wind: forecast };
  const dispatchS = remainingSeconds(withWind, 'Scheduled', s, pickup, dropoff);
  const noWindS = remainingSeconds(profile, 'Scheduled', s, pickup, dropoff);
  const learner = new SpeedLearner();
  const drone = `drone-${id}`;
  let t = 0;
  let halfEtaS = NaN;
  const vertical = (fromAlt: number, toAlt: number) => {
    let alt = fromAlt;
    while (Math.abs(alt - toAlt) > 1e-6) {
      const rate = toAlt > alt ? PHYS.climb : alt <= PHYS.slowBelow ? PHYS.slowDescent : PHYS.descent;
      alt += Math.sign(toAlt - alt) * Math.min(rate * dt, Math.abs(toAlt - alt));
      t += dt;
    }
  };
  const cruise = (from: { x: number; y: number }, target: { x: number; y: number }, legName: string, onHalf?: (p: { x: number; y: number }) => void) => {
    let p = { ...from };
    let v = { x: 0, y: 0 };
    const total = Math.hypot(target.x - from.x, target.y - from.y);
    let lastLearn = t;
    for (;;) {
      const ox = target.x - p.x;
      const oy = target.y - p.y;
      const dist = Math.hypot(ox, oy);
      if (dist < 1) return;
      const a = Math.exp(-dt / gustTau);
      const b = gustSigma * Math.sqrt(1 - a * a);
      gx = a * gx + b * gauss();
      gy = a * gy + b * gauss();
      const w = { x: mean.x + gx, y: mean.y + gy };
      const want = Math.min(PHYS.cruise, Math.sqrt(1.6 * PHYS.accel * dist), dist / dt);
      let vx = (ox / dist) * want;
      let vy = (oy / dist) * want;
      let ax = vx - w.x;
      let ay = vy - w.y;
      const air = Math.hypot(ax, ay);
      if (air > PHYS.maxAir) { ax *= PHYS.maxAir / air; ay *= PHYS.maxAir / air; }
      vx = ax + w.x;
      vy = ay + w.y;
      let dvx = vx - v.x;
      let dvy = vy - v.y;
      const dv = Math.hypot(dvx, dvy);
      if (dv > PHYS.accel * dt) { dvx *= (PHYS.accel * dt) / dv; dvy *= (PHYS.accel * dt) / dv; }
      v = { x: v.x + dvx, y: v.y + dvy };
      p = { x: p.x + v.x * dt, y: p.y + v.y * dt };
      t += dt;
      // What the core sees every 2 s: DroneStatus.groundSpeed, compared with the model on this course.
      if (t - lastLearn >= 2 && dist > 100) {
        lastLearn = t;
        const here = toLatLon(p.x, p.y);
        const modelled = groundSpeedMs(profile.cruiseSpeedMs, courseDeg(here, toLatLon(target.x, target.y)), forecast, profile.maxAirspeedMs);
        if (modelled !== null) learner.observe(drone, legName, Math.hypot(v.x, v.y), modelled);
      }
      if (onHalf && Number.isNaN(halfEtaS) && dist <= total / 2) onHalf(p);
    }
  };
  vertical(0, PHYS.alt);
  cruise(start, pickupXY, 'pickup');
  vertical(PHYS.alt, 0);
  t += PHYS.groundDelayS;
  vertical(0, PHYS.alt);
  cruise(pickupXY, dropXY, 'dropoff', (p) => {
    const here = { ...toLatLon(p.x, p.y), altRel: PHYS.alt };
    halfEtaS = t + remainingSeconds(withWind, 'HeadedToDropoff', here, pickup, dropoff, learner.factor(drone, 'dropoff'));
  });
  vertical(PHYS.alt, 0);
  return { actualS: t, dispatchS, halfEtaS, noWindS };
}

const pct = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const round2 = (x: number) => Math.round(x * 100) / 100;
const flights = Array.from({ length: N }, (_, i) => fly(i));
const err = (f: Flight, predicted: number) => (100 * Math.abs(predicted - f.actualS)) / f.actualS;
const dispatch = flights.map((f) => err(f, f.dispatchS));
const half = flights.map((f) => err(f, f.halfEtaS));
const still = flights.map((f) => err(f, f.noWindS));
console.log(`${N} deliveries, mean wind 0–10 m/s with gusts, flight ${Math.round(pct(flights.map((f) => f.actualS), 0.5))} s median; `
  + `error at dispatch median ${pct(dispatch, 0.5).toFixed(2)} % p90 ${pct(dispatch, 0.9).toFixed(2)} %, at half-way median ${pct(half, 0.5).toFixed(2)} % p90 ${pct(half, 0.9).toFixed(2)} %; `
  + `without wind in the model: median ${pct(still, 0.5).toFixed(2)} % p90 ${pct(still, 0.9).toFixed(2)} %`);
console.log(JSON.stringify({
  bench: 'eta', deliveries: N, median_pct: round2(pct(dispatch, 0.5)), p90_pct: round2(pct(dispatch, 0.9)),
  half_median_pct: round2(pct(half, 0.5)), half_p90_pct: round2(pct(half, 0.9)),
  baseline_no_wind_median_pct: round2(pct(still, 0.5)), baseline_no_wind_p90_pct: round2(pct(still, 0.9)),
}));
