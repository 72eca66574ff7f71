import type { DeliveryAssignment, MissionStep } from '@aerie/contracts';

/**
 * The delivery mission: fly to the pickup and land there for loading, take off, fly to the
 * dropoff and land there for unloading, take off and return to launch. Landing at both ends
 * is what lets the tracker see pickup and dropoff in DroneStatus (landed inside a geofence).
 */
export function deliveryMission(a: Pick<DeliveryAssignment, 'pickup' | 'dropoff' | 'cruiseAltM' | 'groundDelayS'>): MissionStep[] {
  const alt = a.cruiseAltM;
  return [
    { kind: 'takeoff', alt },
    { kind: 'waypoint', lat: a.pickup.lat, lon: a.pickup.lon, alt },
    { kind: 'land', lat: a.pickup.lat, lon: a.pickup.lon },
    { kind: 'delay', seconds: a.groundDelayS },
    { kind: 'takeoff', alt },
    { kind: 'waypoint', lat: a.dropoff.lat, lon: a.dropoff.lon, alt },
    { kind: 'land', lat: a.dropoff.lat, lon: a.dropoff.lon },
    { kind: 'delay', seconds: a.groundDelayS },
    { kind: 'takeoff', alt },
    { kind: 'rtl' },
  ];
}
