import { haversineM, type DeliveryStage, type LatLon } from '@aerie/contracts';
import { courseDeg, groundSpeedMs, type Wind } from './wind.js';

export interface FlightProfile {
  cruiseSpeedMs: number;
  climbRateMs: number;
  descentRateMs: number;
  cruiseAltM: number;
  groundDelayS: number;
  /** Forecast wind at cruise altitude; none means still air. */
  wind?: Wind;
  /** Set when cruise speed is a ground-speed target capped by this airspeed (see wind.ts). */
  maxAirspeedMs?: number;
  /** Horizontal acceleration (m/s²): time lost speeding up and braking on each leg. */
  horizontalAccelMs2?: number;
  /** Slower final descent below this height (m), like the simulator and PX4's MPC_LAND_SPEED. */
  slowDescentBelowM?: number;
  slowDescentRateMs?: number;
}

/** Seconds to come down from `altM` to the ground. */
export function descentS(p: FlightProfile, altM: number): number {
  const below = Math.min(altM, p.slowDescentBelowM ?? 0);
  const slow = p.slowDescentRateMs && below > 0 ? below / p.slowDescentRateMs : below / p.descentRateMs;
  return (altM - below) / p.descentRateMs + slow;
}

/** Seconds to cruise from a to b: distance over the wind-triangle ground speed along that course. */
export function cruiseS(p: FlightProfile, a: LatLon, b: LatLon, correction = 1): number {
  const d = haversineM(a, b);
  if (d < 1) return 0;
  const gs = groundSpeedMs(p.cruiseSpeedMs, courseDeg(a, b), p.wind, p.maxAirspeedMs);
  // A headwind the drone cannot beat: the leg is not flyable; Infinity keeps it out of every plan.
  if (gs === null) return Infinity;
  const v = gs * correction;
  // Speeding up and braking at a: each costs v/2a over flying the distance at v throughout.
  return d / v + (p.horizontalAccelMs2 ? v / p.horizontalAccelMs2 : 0);
}

/** Seconds to take off, cruise from a to b and land. Acceleration is ignored (a few seconds). */
export function legS(p: FlightProfile, a: LatLon, b: LatLon, correction = 1, via: readonly LatLon[] = []): number {
  return p.cruiseAltM / p.climbRateMs + pathCruiseS(p, [a, ...via, b], correction) + descentS(p, p.cruiseAltM);
}

/** Seconds to cruise along a polyline: each straight piece at its own course's ground speed. */
export function pathCruiseS(p: FlightProfile, pts: readonly LatLon[], correction = 1): number {
  let s = 0;
  for (let k = 1; k < pts.length; k++) s += cruiseS(p, pts[k - 1]!, pts[k]!, correction);
  return s;
}

/**
 * The legs as dispatched round no-fly zones (DeliveryAssignment.route): where the drone set off
 * from and the intermediate waypoints to the pickup and to the dropoff.
 */
export interface RoutedLegs {
  from: LatLon;
  toPickup: readonly LatLon[];
  toDropoff: readonly LatLon[];
}

/**
 * What is left of a polyline for a drone at `here`: `here`, then the vertices after the piece of
 * the path nearest to it. Nearest by planar distance on a local tangent plane (equirectangular:
 * under 0.1 % off within 50 km); a drone a few metres off the line still counts as on it.
 */
export function restOfPath(path: readonly LatLon[], here: LatLon): LatLon[] {
  if (path.length < 2) return [here, ...path];
  const kx = Math.cos((here.lat * Math.PI) / 180);
  const xy = (q: LatLon) => [(q.lon - here.lon) * kx, q.lat - here.lat] as const;
  let best = 1;
  let bestD = Infinity;
  for (let k = 1; k < path.length; k++) {
    const [x1, y1] = xy(path[k - 1]!);
    const [x2, y2] = xy(path[k]!);
    const dx = x2 - x1, dy = y2 - y1;
    const len2 = dx * dx + dy * dy;
    const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, -(x1 * dx + y1 * dy) / len2));
    const d = Math.hypot(x1 + t * dx, y1 + t * dy);
    // Ties go to the later piece: at a corner the drone is done with the one before.
    if (d <= bestD) { bestD = d; best = k; }
  }
  return [here, ...path.slice(best)];
}

/**
 * Seconds until the package is at the dropoff, from where the drone is now and the stage it is
 * in. Before pickup: the rest of the leg to the pickup, the ground delay, then the whole leg to
 * the dropoff. After pickup: the rest of the leg to the dropoff. With `route`, each leg follows
 * its waypoints round the no-fly zones, and in flight what is left of them from the drone's
 * place, not a straight line through a zone.
 */
export function remainingSeconds(
  p: FlightProfile, stage: DeliveryStage, drone: LatLon & { altRel?: number }, pickup: LatLon, dropoff: LatLon, correction = 1,
  route?: RoutedLegs,
): number {
  const toDropoffLeg = legS(p, pickup, dropoff, correction, route?.toDropoff);
  const alt = drone.altRel ?? 0;
  const climbLeft = Math.max(0, p.cruiseAltM - alt) / p.climbRateMs;
  const descent = descentS(p, Math.min(alt, p.cruiseAltM));
  const rest = (path: readonly LatLon[]) => pathCruiseS(p, restOfPath(path, drone), correction);
  switch (stage) {
    case 'Requested':
    case 'Scheduled':
      return legS(p, drone, pickup, correction, route?.toPickup) + p.groundDelayS + toDropoffLeg;
    case 'HeadedToPickup': {
      const d = haversineM(drone, pickup);
      // Near the pickup and coming down: only the descent remains of this leg.
      const cruise = route ? rest([route.from, ...route.toPickup, pickup]) : cruiseS(p, drone, pickup, correction);
      return (d < 10 ? descent : climbLeft + cruise + descentS(p, p.cruiseAltM)) + p.groundDelayS + toDropoffLeg;
    }
    case 'PickedUp':
      return p.groundDelayS + toDropoffLeg;
    case 'HeadedToDropoff': {
      const d = haversineM(drone, dropoff);
      const cruise = route ? rest([pickup, ...route.toDropoff, dropoff]) : cruiseS(p, drone, dropoff, correction);
      return d < 10 ? descent : climbLeft + cruise + descentS(p, p.cruiseAltM);
    }
    default:
      return 0;
  }
}
