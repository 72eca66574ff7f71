import type { DroneStatus } from '@aerie/contracts';

/** A valid DroneStatus; override what the test is about. */
export function droneStatus(overrides: Partial<DroneStatus> = {}): DroneStatus {
  return {
    v: 1, droneId: 'drone-001', bootId: 'boot-a', seq: 0, ts: 1_700_000_000_000, autopilot: 'px4',
    position: { lat: 47.3977, lon: 8.5456, altMsl: 488, altRel: 0 },
    groundSpeed: 0, climbRate: 0, heading: 0,
    battery: { pct: 95, voltage: 16.4, current: 1.2 },
    gps: { fix: 3, satellites: 14, hdop: 0.8 },
    armed: false, flightMode: 'HOLD', flightModeRaw: 'AUTO.LOITER', landedState: 'ON_GROUND',
    mission: { current: -1, total: 0 },
    health: { sensorsHealthy: true, failsafe: false },
    link: { fcConnected: true, fcHeartbeatAgeMs: 100 },
    ...overrides,
  };
}
