import type { DroneStatus } from '@aerie/contracts';
import type { Point } from './point.js';

/**
 * The measurement design (README "## Telemetry and Grafana"). Tags are the identities a dashboard
 * groups by and nothing else: drone_id (fleet size), autopilot (4 values), fleet (a handful). Per-
 * message ids (bootId, seq, delivery ids on status) would make one series per message; they are
 * fields, or absent. drone_status carries `seq` and `boot_id` as fields so every status can be
 * accounted for by its id (bench:faults); a replay of one (droneId, bootId, seq) has the same ts,
 * so it lands on the same series and timestamp and overwrites itself: stored once.
 */
export const MEASUREMENTS = { status: 'drone_status', delivery: 'delivery_event', alert: 'drone_alert' } as const;

/** The one word a fleet map colours a drone by; derived here so every dashboard agrees. */
export type DroneState = 'failsafe' | 'returning' | 'landing' | 'flying' | 'armed' | 'idle';
export const DRONE_STATES: readonly DroneState[] = ['failsafe', 'returning', 'landing', 'flying', 'armed', 'idle'];

export function droneState(s: Pick<DroneStatus, 'armed' | 'flightMode' | 'landedState' | 'health'>): DroneState {
  if (s.health.failsafe) return 'failsafe';
  if (s.flightMode === 'RETURN') return 'returning';
  if (s.flightMode === 'LAND' || s.landedState === 'LANDING') return 'landing';
  if (s.landedState === 'IN_AIR' || s.landedState === 'TAKEOFF') return 'flying';
  return s.armed ? 'armed' : 'idle';
}

const STATUS_INTS: readonly string[] = ['seq'];

/** drone_status: one point per DroneStatus, at the drone's own ts. */
export function statusPoint(s: DroneStatus, fleet: string): Point {
  const fields: Record<string, number | boolean | string> = {
    speed: s.groundSpeed,
    climb: s.climbRate,
    heading: s.heading,
    voltage: s.battery.voltage,
    gps_fix: s.gps.fix,
    sats: s.gps.satellites,
    armed: s.armed,
    mode: s.flightMode,
    landed: s.landedState,
    state: droneState(s),
    // 0/1 twin of `armed`: InfluxQL cannot aggregate booleans, and a state timeline wants a number.
    armed_n: s.armed ? 1 : 0,
    failsafe: s.health.failsafe,
    fc_connected: s.link.fcConnected,
    mission_item: s.mission.current,
    seq: s.seq,
    boot_id: s.bootId,
  };
  if (s.position !== null) {
    fields.lat = s.position.lat;
    fields.lon = s.position.lon;
    fields.alt = s.position.altMsl;
    fields.alt_rel = s.position.altRel;
  }
  if (s.battery.pct !== null) fields.battery_pct = s.battery.pct;
  if (s.battery.current !== null) fields.current = s.battery.current;
  if (s.gps.hdop !== null) fields.hdop = s.gps.hdop;
  if (s.link.fcHeartbeatAgeMs !== null) fields.link_age_ms = s.link.fcHeartbeatAgeMs;
  return { measurement: MEASUREMENTS.status, tags: { drone_id: s.droneId, autopilot: s.autopilot, fleet }, fields, tsMs: s.ts, ints: STATUS_INTS };
}

const TERMINAL_STAGES: readonly string[] = ['Completed', 'Cancelled', 'Failed'];

export interface DeliveryEventInput {
  deliveryId: string;
  droneId: string;
  /** contracts' DELIVERY_STAGES */
  stage: string;
  tsMs: number;
  etaS?: number | null;
  lat?: number | null;
  lon?: number | null;
  /** promised arrival, epoch ms; with tsMs of a 'delivered' event it gives lateness */
  promisedMs?: number | null;
}

/**
 * delivery_event: delivery_id is a tag here, unlike on drone_status, because a delivery has a
 * handful of events in its life; series count grows with deliveries, and the retention policy
 * (README) is what bounds it.
 */
export function deliveryPoint(e: DeliveryEventInput, fleet: string): Point {
  // terminal and on_time are 0/1 numbers because InfluxQL can count and sum numbers, not compare strings across a subquery.
  const fields: Record<string, number | string> = { stage_s: e.stage, terminal: TERMINAL_STAGES.includes(e.stage) ? 1 : 0 };
  if (e.etaS != null) fields.eta_s = e.etaS;
  if (e.lat != null) fields.lat = e.lat;
  if (e.lon != null) fields.lon = e.lon;
  if (e.promisedMs != null && e.stage === 'Completed') {
    fields.late_s = (e.tsMs - e.promisedMs) / 1000;
    fields.on_time = e.tsMs <= e.promisedMs ? 1 : 0;
  }
  return { measurement: MEASUREMENTS.delivery, tags: { delivery_id: e.deliveryId, drone_id: e.droneId, stage: e.stage, fleet }, fields, tsMs: e.tsMs };
}

export interface AlertInput {
  droneId: string;
  /** DroneEvent kinds, e.g. failsafe, low_battery, geofence */
  kind: string;
  severity: 'info' | 'warning' | 'critical';
  message: string;
  tsMs: number;
}

/** MAV_SEVERITY (0 emergency … 7 debug, common.xml) folded to the three levels a dashboard colours. */
export function alertSeverity(mavSeverity: number): AlertInput['severity'] {
  if (mavSeverity <= 2) return 'critical';
  return mavSeverity <= 4 ? 'warning' : 'info';
}

export function alertPoint(a: AlertInput, fleet: string): Point {
  return {
    measurement: MEASUREMENTS.alert,
    tags: { drone_id: a.droneId, kind: a.kind, severity: a.severity, fleet },
    fields: { message: a.message, count: 1 },
    tsMs: a.tsMs,
  };
}
