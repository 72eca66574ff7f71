import { haversineM, type DeliveryStage, type LatLon } from '@aerie/contracts';

export interface FlightProfile {
  cruiseSpeedMs: number;
  climbRateMs: number;
  descentRateMs: number;
  cruiseAltM: number;
  groundDelayS: number;
}

/** Seconds to take off, cruise `distanceM` and land. Acceleration is ignored (a few seconds). */
function legS(p: FlightProfile, distanceM: number): number {
  return p.cruiseAltM / p.climbRateMs + distanceM / p.cruiseSpeedMs + p.cruiseAltM / p.descentRateMs;
}

/**
 * Seconds until the package is at the dropoff, from where the drone is now and the stage it is
 * in. Before pickup: the rest of the leg to the pickup, the ground delay, then the whole leg to
 * the dropoff. After pickup: the rest of the leg to the dropoff.
 */
export function remainingSeconds(p: FlightProfile, stage: DeliveryStage, drone: LatLon & { altRel?: number }, pickup: LatLon, dropoff: LatLon): number {
  const toDropoffLeg = legS(p, haversineM(pickup, dropoff));
  const alt = drone.altRel ?? 0;
  const climbLeft = Math.max(0, p.cruiseAltM - alt) / p.climbRateMs;
  const descent = Math.min(alt, p.cruiseAltM) / p.descentRateMs;
  switch (stage) {
    case 'Requested':
    case 'Scheduled':
      return legS(p, haversineM(drone, pickup)) + p.groundDelayS + toDropoffLeg;
    case 'HeadedToPickup': {
      const d = haversineM(drone, pickup);
      // Near the pickup and coming down: only the descent remains of this leg.
      const rest = d < 10 ? descent : climbLeft + d / p.cruiseSpeedMs + p.cruiseAltM / p.descentRateMs;
      return rest + p.groundDelayS + toDropoffLeg;
    }
    case 'PickedUp':
      return p.groundDelayS + toDropoffLeg;
    case 'HeadedToDropoff': {
      const d = haversineM(drone, dropoff);
      return d < 10 ? descent : climbLeft + d / p.cruiseSpeedMs + p.cruiseAltM / p.descentRateMs;
    }
    default:
      return 0;
  }
}
