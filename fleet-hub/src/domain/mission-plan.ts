import type { DeliveryAssignment, LatLon, MissionStep } from '@aerie/contracts';

type Planned = Pick<DeliveryAssignment, 'pickup' | 'dropoff' | 'cruiseAltM' | 'groundDelayS' | 'route'>;

/**
 * The delivery mission: fly to the pickup and land there for loading, take off, fly to the
 * dropoff and land there for unloading, take off and return to launch. Landing at both ends
 * is what lets the tracker see pickup and dropoff in DroneStatus (landed inside a geofence).
 * The core's routed waypoints round no-fly zones (assignment.route) come before each leg's end;
 * those of the way home before the RTL, which then flies its last, clear stretch straight.
 */
export function deliveryMission(a: Planned): MissionStep[] {
  const alt = a.cruiseAltM;
  const via = (pts: readonly LatLon[] | undefined): MissionStep[] => (pts ?? []).map((p) => ({ kind: 'waypoint', lat: p.lat, lon: p.lon, alt }));
  return [
    { kind: 'takeoff', alt },
    ...via(a.route?.toPickup),
    { kind: 'waypoint', lat: a.pickup.lat, lon: a.pickup.lon, alt },
    { kind: 'land', lat: a.pickup.lat, lon: a.pickup.lon },
    { kind: 'delay', seconds: a.groundDelayS },
    { kind: 'takeoff', alt },
    ...via(a.route?.toDropoff),
    { kind: 'waypoint', lat: a.dropoff.lat, lon: a.dropoff.lon, alt },
    { kind: 'land', lat: a.dropoff.lat, lon: a.dropoff.lon },
    { kind: 'delay', seconds: a.groundDelayS },
    { kind: 'takeoff', alt },
    ...via(a.route?.toHome),
    { kind: 'rtl' },
  ];
}

/** Where the mission's stages begin, by item index: the tracker reads progress from MISSION_CURRENT. */
export function missionMarks(a: Planned): { total: number; takeoffFromPickup: number } {
  const plan = deliveryMission(a);
  return { total: plan.length, takeoffFromPickup: plan.findIndex((s, i) => i > 0 && s.kind === 'takeoff') };
}
