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
export function legS(p: FlightProfile, a: LatLon, b: LatLon, correction = 1): number {
  return p.cruiseAltM / p.climbRateMs + cruiseS(p, a, b, correction) + descentS(p, p.cruiseAltM);
}

/**
 * Seconds until the package is at the dropoff, from where the drone is now and the stage it is
 * in. Before pickup: the rest of the leg to the pickup, the ground delay, then the whole leg to
 * the dropoff. After pickup: the rest of the leg to the dropoff.
 */
export function remainingSeconds(
  p: FlightProfile, stage: DeliveryStage, drone: LatLon & { altRel?: number }, pickup: LatLon, dropoff: LatLon, correction = 1,
): number {
  const toDropoffLeg = legS(p, pickup, dropoff, correction);
  const alt = drone.altRel ?? 0;
  const climbLeft = Math.max(0, p.cruiseAltM - alt) / p.climbRateMs;
  const descent = descentS(p, Math.min(alt, p.cruiseAltM));
  switch (stage) {
    case 'Requested':
    case 'Scheduled':
      return legS(p, drone, pickup, correction) + p.groundDelayS + toDropoffLeg;
    case 'HeadedToPickup': {
      const d = haversineM(drone, pickup);
      // Near the pickup and coming down: only the descent remains of this leg.
      const rest = d < 10 ? descent : climbLeft + cruiseS(p, drone, pickup, correction) + descentS(p, p.cruiseAltM);
      return rest + p.groundDelayS + toDropoffLeg;
    }
    case 'PickedUp':
      return p.groundDelayS + toDropoffLeg;
    case 'HeadedToDropoff': {
      const d = haversineM(drone, dropoff);
      return d < 10 ? descent : climbLeft + cruiseS(p, drone, dropoff, correction) + descentS(p, p.cruiseAltM);
    }
    default:
      return 0;
  }
}
