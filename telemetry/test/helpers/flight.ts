import type { DroneStatus } from '@aerie/contracts';
import { alertPoint, deliveryPoint, statusPoint } from '../../src/domain/measurements.js';
import type { Point } from '../../src/domain/point.js';

/**
 * A deterministic fleet afternoon ending at `endMs`, at 1 Hz: drone-1 flies delivery dl-1 out and
 * back (takeoff, cruise, land at the dropoff, return), drone-2 is mid-delivery dl-2 and turns for
 * home on low battery with a failsafe alert, drone-3 sits idle on its pad. Every measurement and
 * state the dashboards draw appears at least once.
 */
export function simulatedAfternoon(endMs: number, fleet = 'aerie'): Point[] {
  const start = endMs - 30 * 60_000;
  const points: Point[] = [];
  const base = { lat: 47.3977, lon: 8.5456, alt: 488 };
  const status = (droneId: string, seq: number, ts: number, o: Partial<DroneStatus> & { rel?: number; dLat?: number; dLon?: number; pct?: number }): DroneStatus => ({
    v: 1, droneId, bootId: 'boot-1', seq, ts, autopilot: 'px4',
    position: { lat: base.lat + (o.dLat ?? 0), lon: base.lon + (o.dLon ?? 0), altMsl: base.alt + (o.rel ?? 0), altRel: o.rel ?? 0 },
    groundSpeed: o.groundSpeed ?? 0, climbRate: o.climbRate ?? 0, heading: o.heading ?? 90,
    battery: { pct: o.pct ?? 95, voltage: 14 + (o.pct ?? 95) / 50, current: (o.rel ?? 0) > 0 ? 14 : 0.5 },
    gps: { fix: 3, satellites: 12 + (seq % 4), hdop: 0.7 + (seq % 5) / 10 }, armed: o.armed ?? false,
    flightMode: o.flightMode ?? 'HOLD', flightModeRaw: 'x', landedState: o.landedState ?? 'ON_GROUND',
    mission: { current: 0, total: 4 }, health: { sensorsHealthy: true, failsafe: o.health?.failsafe ?? false },
    link: { fcConnected: true, fcHeartbeatAgeMs: 100 + (seq % 7) * 150 },
  });
  for (let i = 0; i < 1800; i++) {
    const ts = start + i * 1000;
    // drone-1: 0–60 s on the ground, climb to 60 m, cruise east 600 s, land, return, land at home.
    const leg = i < 60 ? 'ground' : i < 90 ? 'climb' : i < 690 ? 'out' : i < 720 ? 'land' : i < 1320 ? 'back' : i < 1350 ? 'land2' : 'home';
    const rel = leg === 'climb' ? (i - 60) * 2 : leg === 'out' || leg === 'back' ? 60 : leg === 'land' ? 60 - (i - 690) * 2 : leg === 'land2' ? 60 - (i - 1320) * 2 : 0;
    const east = leg === 'out' ? (i - 90) * 1e-4 : leg === 'back' ? 0.06 - (i - 720) * 1e-4 : leg === 'land' ? 0.06 : 0;
    const flying = rel > 0;
    points.push(statusPoint(status('drone-1', i, ts, {
      rel, dLon: east, armed: leg !== 'ground' && leg !== 'home', pct: 95 - i / 30, groundSpeed: leg === 'out' || leg === 'back' ? 10 : 0,
      climbRate: leg === 'climb' ? 2 : leg.startsWith('land') ? -2 : 0, flightMode: leg === 'back' ? 'RETURN' : flying ? 'MISSION' : 'HOLD',
      landedState: leg.startsWith('land') ? 'LANDING' : flying ? 'IN_AIR' : 'ON_GROUND', heading: leg === 'back' ? 270 : 90,
    }), fleet));
    // drone-2: in the air all along, battery draining to 18 %, failsafe RTL from 1500 s.
    const rtl = i >= 1500;
    points.push(statusPoint(status('drone-2', i, ts, {
      rel: 50, dLat: 0.01 + (rtl ? -(i - 1500) * 5e-5 : i * 5e-5), armed: true, pct: Math.max(18, 60 - i / 40), groundSpeed: 8,
      flightMode: rtl ? 'RETURN' : 'MISSION', landedState: 'IN_AIR', health: { sensorsHealthy: true, failsafe: rtl && i < 1520 },
    }), fleet));
    if (i % 5 === 0) points.push(statusPoint(status('drone-3', i / 5, ts, { dLat: -0.002, pct: 100 }), fleet));
  }
  const at = (s: number): number => start + s * 1000;
  const ev = (deliveryId: string, droneId: string, stage: string, s: number, extra: { etaS?: number; promisedS?: number; dLon?: number } = {}): Point =>
    deliveryPoint({ deliveryId, droneId, stage, tsMs: at(s), etaS: extra.etaS ?? null, lat: base.lat, lon: base.lon + (extra.dLon ?? 0),
      promisedMs: extra.promisedS === undefined ? null : at(extra.promisedS) }, fleet);
  points.push(
    ev('dl-1', 'drone-1', 'Scheduled', 0, { etaS: 720 }), ev('dl-1', 'drone-1', 'PickedUp', 60, { etaS: 660 }),
    ev('dl-1', 'drone-1', 'HeadedToDropoff', 90, { etaS: 630 }), ev('dl-1', 'drone-1', 'Completed', 720, { dLon: 0.06, promisedS: 700 }),
    ev('dl-0', 'drone-1', 'Completed', 30, { promisedS: 100 }),
    ev('dl-2', 'drone-2', 'Scheduled', 10, { etaS: 1900 }), ev('dl-2', 'drone-2', 'HeadedToDropoff', 20, { etaS: 1800 }),
    alertPoint({ droneId: 'drone-2', kind: 'low_battery', severity: 'warning', message: 'battery 25 %', tsMs: at(1400) }, fleet),
    alertPoint({ droneId: 'drone-2', kind: 'failsafe', severity: 'critical', message: 'battery failsafe: returning to launch', tsMs: at(1500) }, fleet),
    alertPoint({ droneId: 'drone-1', kind: 'statustext', severity: 'info', message: 'mission complete', tsMs: at(1350) }, fleet),
  );
  return points;
}
