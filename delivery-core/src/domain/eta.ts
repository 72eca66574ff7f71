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
}

/** Seconds to cruise from a to b: distance over the wind-triangle ground speed along that course. */
export function cruiseS(p: FlightProfile, a: LatLon, b: LatLon, correction = 1): number {
  const d = haversineM(a, b);
  if (d < 1) return 0;
  const gs = groundSpeedMs(p.cruiseSpeedMs, courseDeg(a, b), p.wind);
  // A headwind the drone cannot beat: the leg is not flyable; Infinity keeps it out of every plan.
  return gs === null ? Infinity : d / (gs * correction);
}

/** Seconds to take off, cruise from a to b and land. Acceleration is ignored (a few seconds). */
export function legS(p: FlightProfile, a: LatLon, b: LatLon, correction = 1): number {
  return p.cruiseAltM / p.climbRateMs + cruiseS(p, a, b, correction) + p.cruiseAltM / p.descentRateMs;
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
  const descent = Math.min(alt, p.cruiseAltM) / p.descentRateMs;
  switch (stage) {
    case 'Requested':
    case 'Scheduled':
      return legS(p, drone, pickup, correction) + p.groundDelayS + toDropoffLeg;
    case 'HeadedToPickup': {
      const d = haversineM(drone, pickup);
      // Near the pickup and coming down: only the descent remains of this leg.
      const rest = d < 10 ? descent : climbLeft + cruiseS(p, drone, pickup, correction) + p.cruiseAltM / p.descentRateMs;
      return rest + p.groundDelayS + toDropoffLeg;
    }
    case 'PickedUp':
      return p.groundDelayS + toDropoffLeg;
    case 'HeadedToDropoff': {
      const d = haversineM(drone, dropoff);
      return d < 10 ? descent : climbLeft + cruiseS(p, drone, dropoff, correction) + p.cruiseAltM / p.descentRateMs;
    }
    default:
      return 0;
  }
}
