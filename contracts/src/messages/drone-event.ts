import { Type, type Static } from '@sinclair/typebox';
import { DroneId, EpochMs } from './common.js';

export const DRONE_EVENT_KINDS = [
  'statustext', 'mission_item_reached', 'mode_changed', 'armed', 'disarmed',
  'failsafe_raised', 'failsafe_cleared', 'link_lost', 'link_recovered',
] as const;

/** Discrete happenings on board, published on `fleet/v1/{droneId}/events` (QoS 1, never shed). */
export const DroneEvent = Type.Object(
  {
    v: Type.Literal(1),
    droneId: DroneId,
    bootId: Type.String({ minLength: 1, maxLength: 64 }),
    seq: Type.Integer({ minimum: 0 }),
    ts: EpochMs,
    kind: Type.Union(DRONE_EVENT_KINDS.map((k) => Type.Literal(k))),
    severity: Type.Integer({ minimum: 0, maximum: 7, description: 'MAV_SEVERITY, 0 = emergency' }),
    text: Type.String({ maxLength: 256 }),
    data: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]))),
  },
  { additionalProperties: false, $id: 'DroneEvent' },
);
export type DroneEvent = Static<typeof DroneEvent>;
export type DroneEventKind = (typeof DRONE_EVENT_KINDS)[number];
