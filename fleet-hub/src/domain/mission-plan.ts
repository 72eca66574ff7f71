import { haversineM, type DeliveryAssignment, type LatLon, type MissionStep } from '@aerie/contracts';

type Planned = Pick<DeliveryAssignment, 'pickup' | 'dropoff' | 'cruiseAltM' | 'groundDelayS' | 'route'>;

/**
 * The delivery mission: fly to the pickup and land there, grab the package (MAV_CMD_DO_GRIPPER
 * grab) and wait for loading, take off, fly to the dropoff and land there, release the package
 * (DO_GRIPPER release, as ArduPilot's and PX4's delivery missions do) and wait, take off and
 * return to launch. Landing at both ends is what lets the tracker see pickup and dropoff in
 * DroneStatus (landed inside a geofence); the release, reported by the agent from the gripper's
 * STATUSTEXT as DroneStatus.payload, is what completes the delivery.
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
    { kind: 'gripper', action: 'grab' },
    { kind: 'delay', seconds: a.groundDelayS },
    { kind: 'takeoff', alt },
    ...via(a.route?.toDropoff),
    { kind: 'waypoint', lat: a.dropoff.lat, lon: a.dropoff.lon, alt },
    { kind: 'land', lat: a.dropoff.lat, lon: a.dropoff.lon },
    { kind: 'gripper', action: 'release' },
    { kind: 'delay', seconds: a.groundDelayS },
    { kind: 'takeoff', alt },
    ...via(a.route?.toHome),
    { kind: 'rtl' },
  ];
}

/** Where the mission's stages begin, by item index: the tracker reads progress from MISSION_CURRENT. */
export function missionMarks(a: Planned): { total: number; takeoffFromPickup: number; takeoffFromDropoff: number } {
  const plan = deliveryMission(a);
  const takeoffFromPickup = plan.findIndex((s, i) => i > 0 && s.kind === 'takeoff');
  return { total: plan.length, takeoffFromPickup, takeoffFromDropoff: plan.findIndex((s, i) => i > takeoffFromPickup && s.kind === 'takeoff') };
}

/**
 * The points still to fly, in order, up to the dropoff, along the routed legs (not a straight
 * line through a no-fly zone). `currentItem` is the drone's MISSION_CURRENT when it flies this
 * very mission: the positional items from there on are exactly what is left. Without it (another
 * plan, no progress yet) the leg the drone is on is the one whose segment passes closest to it.
 */
export function remainingPath(a: Planned, here: LatLon, beforePickup: boolean, currentItem: number | null): LatLon[] {
  if (currentItem !== null) {
    const plan = deliveryMission(a);
    const dropoffLand = plan.findLastIndex((s) => s.kind === 'land');
    const pickupLand = plan.findIndex((s) => s.kind === 'land');
    // The stage is the tracker's word: items before the pickup's landing are behind a drone that has picked up.
    const from = Math.max(currentItem, beforePickup ? 0 : pickupLand + 1);
    const out: LatLon[] = [];
    for (let i = from; i <= dropoffLand; i++) {
      const s = plan[i]!;
      if (s.kind === 'waypoint' || s.kind === 'land') out.push({ lat: s.lat, lon: s.lon });
    }
    if (out.length > 0) return out;
  }
  const toDropoff = [...(a.route?.toDropoff ?? []), a.dropoff];
  if (!beforePickup) return [...ahead(here, a.pickup, toDropoff)];
  const legs = [...(a.route?.toPickup ?? []), a.pickup, ...toDropoff];
  // The launch point is not in the assignment: the first routed point starts the way.
  return [...ahead(here, legs[0]!, legs)];
}

/** The points of `pts` (flown from `start`) still ahead of `here`: from the end of the segment nearest it. */
function ahead(here: LatLon, start: LatLon, pts: readonly LatLon[]): readonly LatLon[] {
  let best = 0;
  let bestM = Infinity;
  for (let i = 0; i < pts.length; i++) {
    const m = segmentDistanceM(here, i === 0 ? start : pts[i - 1]!, pts[i]!);
    if (m < bestM) {
      bestM = m;
      best = i;
    }
  }
  return pts.slice(best);
}

/** Distance from `p` to the segment a–b (m), on a local flat projection: legs are kilometres long. */
function segmentDistanceM(p: LatLon, a: LatLon, b: LatLon): number {
  const kx = 111_320 * Math.cos((p.lat * Math.PI) / 180);
  const ky = 110_574;
  const [ax, ay, bx, by] = [(a.lon - p.lon) * kx, (a.lat - p.lat) * ky, (b.lon - p.lon) * kx, (b.lat - p.lat) * ky];
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, -(ax * dx + ay * dy) / len2));
  return Math.hypot(ax + t * dx, ay + t * dy);
}

/** Length of the way from `here` through `path` (m). */
export function pathLengthM(here: LatLon, path: readonly LatLon[]): number {
  let m = 0;
  let at = here;
  for (const p of path) {
    m += haversineM(at, p);
    at = p;
  }
  return m;
}
