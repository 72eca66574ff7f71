import { Type, type Static } from '@sinclair/typebox';
import { CorrelationId, DroneId, EpochMs } from './common.js';

const Lat = Type.Number({ minimum: -90, maximum: 90 });
const Lon = Type.Number({ minimum: -180, maximum: 180 });
const AltRel = Type.Number({ minimum: 0, maximum: 500, description: 'metres above home' });

/** One step of a delivery mission; the edge agent maps each to a MAVLink MISSION_ITEM_INT. */
export const MissionStep = Type.Union([
  Type.Object({ kind: Type.Literal('takeoff'), alt: AltRel }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('waypoint'), lat: Lat, lon: Lon, alt: AltRel }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('land'), lat: Lat, lon: Lon }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('delay'), seconds: Type.Number({ minimum: 0, maximum: 3600 }) }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('rtl') }, { additionalProperties: false }),
  /** MAV_CMD_DO_GRIPPER as a mission item: grab the package at the pickup, release it at the dropoff. */
  Type.Object({ kind: Type.Literal('gripper'), action: Type.Union([Type.Literal('grab'), Type.Literal('release')]) }, { additionalProperties: false }),
]);
export type MissionStep = Static<typeof MissionStep>;

export const CommandAction = Type.Union([
  Type.Object(
    { kind: Type.Literal('mission'), steps: Type.Array(MissionStep, { minItems: 1, maxItems: 500 }) },
    { additionalProperties: false },
  ),
  Type.Object({ kind: Type.Literal('rtl') }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('land') }, { additionalProperties: false }),
  /** MAV_CMD_DO_PAUSE_CONTINUE: hold position in a mission, then resume it. */
  Type.Object({ kind: Type.Literal('pause') }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('continue') }, { additionalProperties: false }),
  /** Telemetry rate asked of the flight controller (SET_MESSAGE_INTERVAL), e.g. lower over a weak link. */
  Type.Object({ kind: Type.Literal('set_stream_rate'), hz: Type.Number({ minimum: 0.1, maximum: 50 }) }, { additionalProperties: false }),
]);
export type CommandAction = Static<typeof CommandAction>;

/** Hub → drone on `fleet/v1/{droneId}/cmd` (QoS 1). Idempotent by commandId. */
export const DroneCommand = Type.Object(
  {
    v: Type.Literal(1),
    commandId: Type.String({ minLength: 1, maxLength: 128 }),
    droneId: DroneId,
    ts: EpochMs,
    correlationId: Type.Optional(CorrelationId),
    action: CommandAction,
    hmac: Type.Optional(Type.String({
      pattern: '^[0-9a-f]{64}$',
      description: 'HMAC-SHA256 (hex) with the drone\'s command key over the canonical JSON of this command without `hmac` '
        + '(object keys sorted at every level, no whitespace). Required by agents configured with a command key.',
    })),
  },
  { additionalProperties: false, $id: 'DroneCommand' },
);
export type DroneCommand = Static<typeof DroneCommand>;

export const COMMAND_OUTCOMES = ['accepted', 'rejected', 'failed', 'timeout'] as const;

/** Drone → hub on `fleet/v1/{droneId}/cmd/result`, carrying the MAVLink ACK outcome. */
export const CommandResult = Type.Object(
  {
    v: Type.Literal(1),
    commandId: Type.String({ minLength: 1, maxLength: 128 }),
    droneId: DroneId,
    ts: EpochMs,
    correlationId: Type.Optional(CorrelationId),
    outcome: Type.Union(COMMAND_OUTCOMES.map((o) => Type.Literal(o))),
    code: Type.String({ description: 'Stable code: AGENT_OK or an AGENT_ERR_* code' }),
    mavResult: Type.Union([Type.String(), Type.Null()], { description: 'MAV_RESULT or MAV_MISSION_RESULT name from the flight controller' }),
    message: Type.String({ maxLength: 512 }),
  },
  { additionalProperties: false, $id: 'CommandResult' },
);
export type CommandResult = Static<typeof CommandResult>;
