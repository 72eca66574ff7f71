import { displace, offsetM, type LatLon } from './geo.js';
import { GpsFixType } from './mav-enums.js';

const GRAVITY_MS2 = 9.80665;

/** Point-mass state. Altitude is above the ground, which is flat at the home altitude. */
export interface Kinematics {
  lat: number;
  lon: number;
  relAltM: number;
  northMs: number;
  eastMs: number;
  upMs: number;
  headingDeg: number;
  onGround: boolean;
}

export type FlightTarget =
  /** Sitting on the ground (disarmed, or armed with props at idle). */
  | { kind: 'ground' }
  /** Fly to and hold a point; relAltM 0 descends to touchdown. */
  | { kind: 'position'; lat: number; lon: number; relAltM: number }
  /** Motors stopped in the air (forced disarm). */
  | { kind: 'freefall' };

export interface PhysicsParams {
  horizontalAccelMs2: number;
  cruiseSpeedMs: number;
  climbRateMs: number;
  descentRateMs: number;
  /** Descent rate near the ground, like PX4's MPC_LAND_SPEED below MPC_LAND_ALT2. */
  slowDescentRateMs: number;
  slowDescentBelowM: number;
  /** Below this height a climbing vehicle goes straight up before moving sideways. */
  minNavAltM: number;
  /** Fastest the airframe moves through the air (its lean-angle limit), m/s. */
  maxAirspeedMs: number;
}

export const DEFAULT_PHYSICS: Readonly<PhysicsParams> = Object.freeze({
  horizontalAccelMs2: 3,
  cruiseSpeedMs: 12,
  climbRateMs: 3,
  descentRateMs: 1.5,
  slowDescentRateMs: 0.7,
  slowDescentBelowM: 5,
  minNavAltM: 1,
  maxAirspeedMs: 16,
});

export function restingAt(point: LatLon, headingDeg = 0): Kinematics {
  return { lat: point.lat, lon: point.lon, relAltM: 0, northMs: 0, eastMs: 0, upMs: 0, headingDeg, onGround: true };
}

export function groundSpeedMs(k: Kinematics): number {
  return Math.hypot(k.northMs, k.eastMs);
}

/** Horizontal wind, m/s towards north and east (the direction the air moves). */
export interface Wind {
  northMs: number;
  eastMs: number;
}
export const CALM: Readonly<Wind> = Object.freeze({ northMs: 0, eastMs: 0 });

/**
 * Advances the point mass by `dtS` towards `target`. Like ArduCopter's WPNAV_SPEED, cruise speed
 * is a ground-speed target; the air velocity that takes is capped at maxAirspeedMs, so a headwind
 * stronger than the margin slows the vehicle over the ground, and any wind changes the power.
 */
export function step(state: Kinematics, target: FlightTarget, dtS: number, p: PhysicsParams = DEFAULT_PHYSICS, wind: Wind = CALM): Kinematics {
  if (target.kind === 'ground' && state.onGround) return { ...state, northMs: 0, eastMs: 0, upMs: 0 };
  if (target.kind === 'freefall' || target.kind === 'ground') return fall(state, dtS);

  const off = offsetM(state, target);
  const dist = Math.hypot(off.northM, off.eastM);
  const verticalFirst = state.relAltM < p.minNavAltM && target.relAltM >= p.minNavAltM;
  // Brake along v² = 2·a·d (with margin for the discrete step) and never overshoot in one step.
  const wantSpeed = verticalFirst || dist < 0.01 ? 0 : Math.min(p.cruiseSpeedMs, Math.sqrt(1.6 * p.horizontalAccelMs2 * dist), dist / dtS);
  let wantN = dist < 0.01 ? 0 : (off.northM / dist) * wantSpeed;
  let wantE = dist < 0.01 ? 0 : (off.eastM / dist) * wantSpeed;
  if (!state.onGround && (wind.northMs !== 0 || wind.eastMs !== 0)) {
    let airN = wantN - wind.northMs;
    let airE = wantE - wind.eastMs;
    const air = Math.hypot(airN, airE);
    if (air > p.maxAirspeedMs) {
      airN *= p.maxAirspeedMs / air;
      airE *= p.maxAirspeedMs / air;
    }
    wantN = airN + wind.northMs;
    wantE = airE + wind.eastMs;
  }
  let dvN = wantN - state.northMs;
  let dvE = wantE - state.eastMs;
  const dv = Math.hypot(dvN, dvE);
  const maxDv = p.horizontalAccelMs2 * dtS;
  if (dv > maxDv) {
    dvN *= maxDv / dv;
    dvE *= maxDv / dv;
  }
  const northMs = state.northMs + dvN;
  const eastMs = state.eastMs + dvE;

  const dz = target.relAltM - state.relAltM;
  const rate = dz > 0 ? p.climbRateMs : state.relAltM <= p.slowDescentBelowM ? p.slowDescentRateMs : p.descentRateMs;
  const upMs = Math.sign(dz) * Math.min(rate, Math.abs(dz) / dtS);

  const pos = displace(state, { northM: northMs * dtS, eastM: eastMs * dtS });
  const relAltM = Math.max(0, state.relAltM + upMs * dtS);
  const touchedDown = relAltM <= 1e-3 && target.relAltM <= 1e-3;
  if (touchedDown) return { ...pos, relAltM: 0, northMs: 0, eastMs: 0, upMs: 0, headingDeg: state.headingDeg, onGround: true };
  return { ...pos, relAltM, northMs, eastMs, upMs, headingDeg: headingOf(northMs, eastMs, state.headingDeg), onGround: false };
}

function fall(state: Kinematics, dtS: number): Kinematics {
  const upMs = state.upMs - GRAVITY_MS2 * dtS;
  const relAltM = state.relAltM + upMs * dtS;
  if (relAltM <= 0) return { ...state, relAltM: 0, northMs: 0, eastMs: 0, upMs: 0, onGround: true };
  const pos = displace(state, { northM: state.northMs * dtS, eastM: state.eastMs * dtS });
  return { ...state, ...pos, relAltM, upMs, onGround: false };
}

/** Yaw follows the velocity vector; below walking pace the vehicle keeps its heading. */
function headingOf(northMs: number, eastMs: number, previousDeg: number): number {
  if (Math.hypot(northMs, eastMs) < 0.5) return previousDeg;
  return ((Math.atan2(eastMs, northMs) * 180) / Math.PI + 360) % 360;
}

export interface BatteryParams {
  capacityWh: number;
  /** Airframe mass with battery, without payload, kg. */
  massKg: number;
  /** Hover power at massKg; it scales with mass^1.5 (momentum theory). */
  hoverPowerW: number;
  /** Extra power per m/s of airspeed at massKg, scaling with mass. */
  powerPerMsW: number;
  /** Share of electrical power that becomes potential energy in a climb. */
  climbEfficiency: number;
  /** Armed on the ground with props at idle. */
  idlePowerW: number;
  /** 4S LiPo: 4.2 V per cell full, 3.5 V per cell empty. */
  fullVoltageV: number;
  emptyVoltageV: number;
}

/**
 * A 2 kg delivery quadcopter. Calibrated so that cruising at 12 m/s with a 0.5 kg payload costs
 * about 0.08 MJ/km, the figure Stolaroff et al. (Nature Communications 9, 409, 2018) give for a
 * small quadcopter carrying 0.5 kg; test/physics-energy.test.ts pins it.
 */
export const DEFAULT_BATTERY: Readonly<BatteryParams> = Object.freeze({
  capacityWh: 500,
  massKg: 2,
  hoverPowerW: 400,
  powerPerMsW: 26.7,
  climbEfficiency: 0.7,
  idlePowerW: 20,
  fullVoltageV: 16.8,
  emptyVoltageV: 14.0,
});

export interface BatteryReadout {
  remainingPct: number;
  voltageV: number;
  currentA: number;
  powerW: number;
}

/**
 * Electrical power: hover (∝ mass^1.5), forward flight (∝ airspeed · mass) and the potential
 * energy of a climb, so energy follows distance, climb and payload.
 */
export function powerDrawW(k: Kinematics, armed: boolean, p: BatteryParams = DEFAULT_BATTERY, payloadKg = 0, wind: Wind = CALM): number {
  if (!armed) return 0;
  if (k.onGround) return p.idlePowerW;
  const ratio = (p.massKg + payloadKg) / p.massKg;
  const airspeed = Math.hypot(k.northMs - wind.northMs, k.eastMs - wind.eastMs);
  const climbW = k.upMs > 0 ? ((p.massKg + payloadKg) * GRAVITY_MS2 * k.upMs) / p.climbEfficiency : 0;
  return p.hoverPowerW * ratio ** 1.5 + p.powerPerMsW * airspeed * ratio + climbW;
}

export function drainWh(energyWh: number, powerW: number, dtS: number): number {
  return Math.max(0, energyWh - (powerW * dtS) / 3600);
}

export function batteryReadout(energyWh: number, powerW: number, p: BatteryParams = DEFAULT_BATTERY): BatteryReadout {
  const fraction = Math.min(1, Math.max(0, energyWh / p.capacityWh));
  const voltageV = p.emptyVoltageV + (p.fullVoltageV - p.emptyVoltageV) * fraction;
  return { remainingPct: fraction * 100, voltageV, currentA: powerW / voltageV, powerW };
}

export interface GpsReadout {
  fixType: number;
  satellites: number;
  hdop: number;
}

export function gpsReadout(noFix: boolean, quality: GpsReadout = { fixType: GpsFixType.FIX_3D, satellites: 14, hdop: 0.8 }): GpsReadout {
  return noFix ? { fixType: GpsFixType.NO_FIX, satellites: 3, hdop: 99.99 } : quality;
}
