import type { DroneStatus } from '@aerie/contracts';

/** A schema-valid DroneStatus (every required field of contracts' drone-status.ts); override what a test is about. */
export function makeStatus(overrides: Partial<DroneStatus> = {}): DroneStatus {
  return {
    v: 1,
    droneId: 'drone-1',
    bootId: 'boot-a',
    seq: 0,
    ts: 1_714_560_000_000,
    autopilot: 'px4',
    position: { lat: 47.397742, lon: 8.545594, altMsl: 488.2, altRel: 30.5 },
    groundSpeed: 12.5,
    climbRate: 0.2,
    heading: 90,
    battery: { pct: 87, voltage: 15.8, current: 12.1 },
    gps: { fix: 3, satellites: 14, hdop: 0.8 },
    armed: true,
    flightMode: 'MISSION',
    flightModeRaw: 'AUTO.MISSION',
    landedState: 'IN_AIR',
    mission: { current: 2, total: 5 },
    health: { sensorsHealthy: true, failsafe: false },
    link: { fcConnected: true, fcHeartbeatAgeMs: 180 },
    ...overrides,
  };
}

/** `count` consecutive statuses of one boot, `periodMs` apart, moving east. */
export function makeFlight(count: number, base: Partial<DroneStatus> = {}, periodMs = 200): DroneStatus[] {
  const first = makeStatus(base);
  return Array.from({ length: count }, (_, i) =>
    makeStatus({
      ...base,
      seq: first.seq + i,
      ts: first.ts + i * periodMs,
      position: first.position && { ...first.position, lon: first.position.lon + i * 1e-5 },
    }),
  );
}
