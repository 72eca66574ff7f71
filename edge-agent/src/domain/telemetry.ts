/**
 * What the flight controller tells the agent, as plain values. The MAVLink adapter maps
 * messages into these, so the domain never sees wire classes (or their bigint fields).
 */
export type FcTelemetry =
  | { kind: 'heartbeat'; autopilot: number; vehicleType: number; baseMode: number; customMode: number; systemStatus: number }
  | { kind: 'position'; lat: number; lon: number; altMsl: number; altRel: number; vx: number; vy: number; vz: number; heading: number | null }
  | { kind: 'sysStatus'; voltage: number; current: number | null; remainingPct: number | null; sensorsHealthy: boolean }
  | { kind: 'battery'; voltage: number | null; current: number | null; remainingPct: number | null }
  | { kind: 'gps'; fix: number; satellites: number; hdop: number | null }
  | { kind: 'vfrHud'; groundSpeed: number; climb: number; heading: number }
  | { kind: 'extSysState'; landedState: number }
  | { kind: 'missionCurrent'; seq: number; total: number }
  | { kind: 'missionItemReached'; seq: number }
  | { kind: 'statustext'; severity: number; text: string };

/** MAV_AUTOPILOT values the agent distinguishes (minimal.xml). */
export const MAV_AUTOPILOT_GENERIC = 0;
export const MAV_AUTOPILOT_ARDUPILOTMEGA = 3;
export const MAV_AUTOPILOT_INVALID = 8;
export const MAV_AUTOPILOT_PX4 = 12;

/** MAV_MODE_FLAG_SAFETY_ARMED (minimal.xml). */
export const MAV_MODE_FLAG_SAFETY_ARMED = 0x80;
export const MAV_MODE_FLAG_CUSTOM_MODE_ENABLED = 0x01;

/** MAV_LANDED_STATE (common.xml). */
export const LANDED_STATE_NAMES = ['UNDEFINED', 'ON_GROUND', 'IN_AIR', 'TAKEOFF', 'LANDING'] as const;

/** MAV_SEVERITY_WARNING: STATUSTEXT at this level or worse becomes a DroneEvent. */
export const MAV_SEVERITY_WARNING = 4;
