import { horizontalDistanceM, type LatLon } from './geo.js';
import type { FlightTarget, Kinematics } from './physics.js';

/** Close enough horizontally to start a vertical landing, m. */
const LAND_ALIGN_M = 1;
/** Vertical acceptance for altitude goals, m. */
const ALT_ACCEPT_M = 0.5;
/** A landing that starts on the ground away from the spot hops over at this height, m. */
const HOP_ALT_M = 10;
/** Lowest waypoint altitude flown, so a waypoint at z = 0 does not turn into a landing, m. */
const MIN_WAYPOINT_ALT_M = 1;

/** What the autopilot is doing right now; each one yields a physics target until it is done. */
export type Maneuver =
  | { kind: 'idle' }
  | { kind: 'hold'; lat: number; lon: number; relAltM: number }
  | { kind: 'takeoff'; lat: number; lon: number; relAltM: number }
  | { kind: 'goto'; lat: number; lon: number; relAltM: number; acceptRadiusM: number; holdS: number; arrivedAtS: number | null }
  | { kind: 'land'; lat: number; lon: number; approachAltM: number; phase: 'approach' | 'descend' }
  | { kind: 'rtl'; fromLat: number; fromLon: number; altM: number; phase: 'climb' | 'return' | 'descend' }
  | { kind: 'delay'; untilS: number; lat: number; lon: number; relAltM: number };

export interface GuideContext {
  kin: Kinematics;
  home: LatLon;
  /** Simulated seconds since boot. */
  nowS: number;
}

export interface Guidance {
  maneuver: Maneuver;
  target: FlightTarget;
  done: boolean;
  /** Descending for a landing (EXTENDED_SYS_STATE.landed_state LANDING). */
  landing: boolean;
}

export function holdHere(kin: Kinematics): Maneuver {
  return kin.onGround ? { kind: 'idle' } : { kind: 'hold', lat: kin.lat, lon: kin.lon, relAltM: kin.relAltM };
}

/** Where to hold once `m` has finished: its own goal point when it had one, else right here. */
export function holdAfter(m: Maneuver, kin: Kinematics): Maneuver {
  if (kin.onGround || (m.kind !== 'takeoff' && m.kind !== 'goto')) return holdHere(kin);
  return { kind: 'hold', lat: m.lat, lon: m.lon, relAltM: m.relAltM };
}

export function takeoff(kin: Kinematics, relAltM: number): Maneuver {
  return { kind: 'takeoff', lat: kin.lat, lon: kin.lon, relAltM: Math.max(MIN_WAYPOINT_ALT_M, relAltM) };
}

export function goTo(point: LatLon, relAltM: number, acceptRadiusM: number, holdS: number): Maneuver {
  return { kind: 'goto', lat: point.lat, lon: point.lon, relAltM: Math.max(MIN_WAYPOINT_ALT_M, relAltM), acceptRadiusM, holdS, arrivedAtS: null };
}

/** Flies to `point` at the current altitude, then descends; null lands right here. */
export function land(kin: Kinematics, point: LatLon | null): Maneuver {
  const spot = point ?? kin;
  const far = horizontalDistanceM(kin, spot) > LAND_ALIGN_M;
  const approachAltM = kin.onGround && far ? HOP_ALT_M : kin.relAltM;
  return { kind: 'land', lat: spot.lat, lon: spot.lon, approachAltM, phase: far ? 'approach' : 'descend' };
}

/** Climbs to at least `rtlAltM`, flies home at that altitude, descends and lands. */
export function returnToLaunch(kin: Kinematics, rtlAltM: number): Maneuver {
  return { kind: 'rtl', fromLat: kin.lat, fromLon: kin.lon, altM: Math.max(kin.relAltM, rtlAltM), phase: 'climb' };
}

export function delay(kin: Kinematics, seconds: number, nowS: number): Maneuver {
  return { kind: 'delay', untilS: nowS + Math.max(0, seconds), lat: kin.lat, lon: kin.lon, relAltM: kin.relAltM };
}

const at = (lat: number, lon: number, relAltM: number): FlightTarget => ({ kind: 'position', lat, lon, relAltM });

function result(maneuver: Maneuver, target: FlightTarget, done = false, landing = false): Guidance {
  return { maneuver, target, done, landing };
}

/** One guidance update: the target to fly now and whether the maneuver is complete. */
export function guide(m: Maneuver, ctx: GuideContext): Guidance {
  const { kin } = ctx;
  switch (m.kind) {
    case 'idle':
      return result(m, kin.onGround ? { kind: 'ground' } : at(kin.lat, kin.lon, kin.relAltM));
    case 'hold':
      return result(m, at(m.lat, m.lon, m.relAltM));
    case 'takeoff':
      return result(m, at(m.lat, m.lon, m.relAltM), !kin.onGround && kin.relAltM >= m.relAltM - ALT_ACCEPT_M);
    case 'goto': {
      const inside = horizontalDistanceM(kin, m) <= m.acceptRadiusM && Math.abs(kin.relAltM - m.relAltM) <= ALT_ACCEPT_M * 2;
      const arrivedAtS = m.arrivedAtS ?? (inside ? ctx.nowS : null);
      const next = arrivedAtS === m.arrivedAtS ? m : { ...m, arrivedAtS };
      return result(next, at(m.lat, m.lon, m.relAltM), arrivedAtS !== null && ctx.nowS - arrivedAtS >= m.holdS);
    }
    case 'land': {
      if (m.phase === 'approach') {
        if (horizontalDistanceM(kin, m) > LAND_ALIGN_M) return result(m, at(m.lat, m.lon, m.approachAltM));
        return guide({ ...m, phase: 'descend' }, ctx);
      }
      return result(m, at(m.lat, m.lon, 0), kin.onGround, !kin.onGround);
    }
    case 'rtl': {
      if (m.phase === 'climb') {
        if (kin.onGround && horizontalDistanceM(kin, ctx.home) <= LAND_ALIGN_M) return result(m, { kind: 'ground' }, true);
        if (kin.relAltM < m.altM - ALT_ACCEPT_M) return result(m, at(m.fromLat, m.fromLon, m.altM));
        return guide({ ...m, phase: 'return' }, ctx);
      }
      if (m.phase === 'return') {
        if (horizontalDistanceM(kin, ctx.home) > LAND_ALIGN_M) return result(m, at(ctx.home.lat, ctx.home.lon, m.altM));
        return guide({ ...m, phase: 'descend' }, ctx);
      }
      return result(m, at(ctx.home.lat, ctx.home.lon, 0), kin.onGround, !kin.onGround);
    }
    case 'delay': {
      const target = kin.onGround ? ({ kind: 'ground' } as const) : at(m.lat, m.lon, m.relAltM);
      return result(m, target, ctx.nowS >= m.untilS);
    }
  }
}
