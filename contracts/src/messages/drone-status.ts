import { Type, type Static } from '@sinclair/typebox';
import { DroneId, EpochMs } from './common.js';

export const FLIGHT_MODES = [
  'MANUAL', 'STABILIZED', 'ALTITUDE', 'POSITION', 'HOLD', 'TAKEOFF', 'MISSION',
  'RETURN', 'LAND', 'GUIDED', 'ACRO', 'OFFBOARD', 'UNKNOWN',
] as const;
export const LANDED_STATES = ['UNDEFINED', 'ON_GROUND', 'IN_AIR', 'TAKEOFF', 'LANDING'] as const;
export const AUTOPILOTS = ['px4', 'ardupilot', 'generic', 'unknown'] as const;
/** Where the delivery's payload is, as the agent knows it from the gripper; 'unknown' when it cannot tell. */
export const PAYLOAD_STATES = ['onboard', 'released', 'unknown'] as const;
/** Age of a field group (ms); absent when the FC never sent it. speed = groundSpeed, climbRate, heading; mode = armed, flightMode. */
const Age = Type.Optional(Type.Integer({ minimum: 0 }));

const literals = <T extends readonly string[]>(values: T) => Type.Union(values.map((v) => Type.Literal(v)));

export const FlightMode = literals(FLIGHT_MODES);
export type FlightMode = (typeof FLIGHT_MODES)[number];
export const LandedState = literals(LANDED_STATES);
export type LandedState = (typeof LANDED_STATES)[number];

/** Telemetry summary a drone publishes at 1–5 Hz (QoS 1) on `fleet/v1/{droneId}/status`. */
export const DroneStatus = Type.Object(
  {
    v: Type.Literal(1),
    droneId: DroneId,
    bootId: Type.String({ minLength: 1, maxLength: 64, description: 'Changes each time the agent starts; (bootId, seq) is unique' }),
    seq: Type.Integer({ minimum: 0, description: 'Monotonic per bootId' }),
    ts: EpochMs,
    autopilot: literals(AUTOPILOTS),
    position: Type.Union([
      Type.Object(
        {
          lat: Type.Number({ minimum: -90, maximum: 90 }),
          lon: Type.Number({ minimum: -180, maximum: 180 }),
          altMsl: Type.Number({ description: 'metres above mean sea level' }),
          altRel: Type.Number({ description: 'metres above home' }),
        },
        { additionalProperties: false },
      ),
      Type.Null(),
    ]),
    groundSpeed: Type.Number({ minimum: 0, description: 'm/s' }),
    climbRate: Type.Number({ description: 'm/s, positive up' }),
    heading: Type.Number({ minimum: 0, maximum: 360, description: 'degrees' }),
    battery: Type.Object(
      {
        pct: Type.Union([Type.Number({ minimum: 0, maximum: 100 }), Type.Null()]),
        voltage: Type.Number({ minimum: 0, description: 'V' }),
        current: Type.Union([Type.Number(), Type.Null()], { description: 'A' }),
      },
      { additionalProperties: false },
    ),
    gps: Type.Object(
      {
        fix: Type.Integer({ minimum: 0, maximum: 8, description: 'GPS_FIX_TYPE' }),
        satellites: Type.Integer({ minimum: 0, maximum: 255 }),
        hdop: Type.Union([Type.Number({ minimum: 0 }), Type.Null()]),
      },
      { additionalProperties: false },
    ),
    armed: Type.Boolean(),
    flightMode: FlightMode,
    flightModeRaw: Type.String({ description: "The autopilot's own mode name or number" }),
    landedState: LandedState,
    mission: Type.Object(
      { current: Type.Integer({ minimum: -1 }), total: Type.Integer({ minimum: 0 }) },
      { additionalProperties: false },
    ),
    // Issue 5: payload release is what completes a delivery. Optional, so agents that cannot
    // tell (and v1 producers before it) stay valid; the hub's tracker then falls back to
    // landed inside the dropoff geofence alone.
    payload: Type.Optional(literals(PAYLOAD_STATES)),
    health: Type.Object(
      {
        sensorsHealthy: Type.Boolean(),
        failsafe: Type.Boolean(),
      },
      { additionalProperties: false },
    ),
    link: Type.Object(
      {
        fcConnected: Type.Boolean(),
        fcHeartbeatAgeMs: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
      },
      { additionalProperties: false },
    ),
    // Issue 3: a field not refreshed in this period keeps its last value with its age. Optional,
    // so v1 consumers and producers without it stay valid; a group never received is absent.
    ages: Type.Optional(
      Type.Object(
        { position: Age, speed: Age, battery: Age, gps: Age, mode: Age, landedState: Age, mission: Age, health: Age },
        { additionalProperties: false, description: 'ms since the FC last refreshed each field group, at ts' },
      ),
    ),
  },
  { additionalProperties: false, $id: 'DroneStatus' },
);
export type DroneStatus = Static<typeof DroneStatus>;
