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
}

export const DEFAULT_PHYSICS: Readonly<PhysicsParams> = Object.freeze({
  horizontalAccelMs2: 3,
  cruiseSpeedMs: 12,
  climbRateMs: 3,
  descentRateMs: 1.5,
  slowDescentRateMs: 0.7,
  slowDescentBelowM: 5,
  minNavAltM: 1,
});

export function restingAt(point: LatLon, headingDeg = 0): Kinematics {
  return { lat: point.lat, lon: point.lon, relAltM: 0, northMs: 0, eastMs: 0, upMs: 0, headingDeg, onGround: true };
}

export function groundSpeedMs(k: Kinematics): number {
  return Math.hypot(k.northMs, k.eastMs);
}

/** Advances the point mass by `dtS` towards `target`. */
export function step(state: Kinematics, target: FlightTarget, dtS: number, p: PhysicsParams = DEFAULT_PHYSICS): Kinematics {
  if (target.kind === 'ground' && state.onGround) return { ...state, northMs: 0, eastMs: 0, upMs: 0 };
  if (target.kind === 'freefall' || target.kind === 'ground') return fall(state, dtS);

  const off = offsetM(state, target);
  const dist = Math.hypot(off.northM, off.eastM);
  const verticalFirst = state.relAltM < p.minNavAltM && target.relAltM >= p.minNavAltM;
  // Brake along v² = 2·a·d (with margin for the discrete step) and never overshoot in one step.
  const wantSpeed = verticalFirst || dist < 0.01 ? 0 : Math.min(p.cruiseSpeedMs, Math.sqrt(1.6 * p.horizontalAccelMs2 * dist), dist / dtS);
  const wantN = dist < 0.01 ? 0 : (off.northM / dist) * wantSpeed;
  const wantE = dist < 0.01 ? 0 : (off.eastM / dist) * wantSpeed;
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
  hoverPowerW: number;
  powerPerMsW: number;
  /** Armed on the ground with props at idle. */
  idlePowerW: number;
  /** 4S LiPo: 4.2 V per cell full, 3.5 V per cell empty. */
  fullVoltageV: number;
  emptyVoltageV: number;
}

export const DEFAULT_BATTERY: Readonly<BatteryParams> = Object.freeze({
  capacityWh: 250,
  hoverPowerW: 250,
  powerPerMsW: 10,
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

export function powerDrawW(k: Kinematics, armed: boolean, p: BatteryParams = DEFAULT_BATTERY): number {
  if (!armed) return 0;
  if (k.onGround) return p.idlePowerW;
  return p.hoverPowerW + p.powerPerMsW * Math.hypot(k.northMs, k.eastMs, k.upMs);
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

export function gpsReadout(noFix: boolean): GpsReadout {
  return noFix ? { fixType: GpsFixType.NO_FIX, satellites: 3, hdop: 99.99 } : { fixType: GpsFixType.FIX_3D, satellites: 14, hdop: 0.8 };
}
