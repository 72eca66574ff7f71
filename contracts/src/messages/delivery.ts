import { Type, type Static } from '@sinclair/typebox';
import { CorrelationId, DroneId, EpochMs, LatLon, Location } from './common.js';

export const DELIVERY_STAGES = [
  'Requested', 'Scheduled', 'HeadedToPickup', 'PickedUp', 'HeadedToDropoff',
  'Completed', 'Cancelled', 'Failed',
] as const;
export type DeliveryStage = (typeof DELIVERY_STAGES)[number];

export const TRACKING_EVENT_TYPES = [
  'DeliveryCreated', 'DeliveryAssigned', 'DeliveryHeadedToPickup', 'PackagePickedUp',
  'DeliveryHeadedToDropoff', 'DeliveryCompleted', 'DeliveryRescheduled', 'DeliveryCancelled',
  'DeliveryFailed', 'EtaUpdated',
  // Published on svc/v1/alerts/{deliveryId}, never on the tracking topic; `alert` says which.
  'DeliveryAlert',
] as const;

export const DELIVERY_ALERT_KINDS = ['telemetry_stale', 'battery_reserve', 'failsafe', 'no_fly_zone'] as const;
export type DeliveryAlertKind = (typeof DELIVERY_ALERT_KINDS)[number];
export type TrackingEventType = (typeof TRACKING_EVENT_TYPES)[number];

/** Domain event of the delivery lifecycle (hub → stream → delivery-core). */
export const DeliveryTracking = Type.Object(
  {
    v: Type.Literal(1),
    eventId: Type.String({ minLength: 1, maxLength: 128, description: 'Unique; consumers dedupe on it' }),
    type: Type.Union(TRACKING_EVENT_TYPES.map((t) => Type.Literal(t))),
    deliveryId: Type.String({ minLength: 1, maxLength: 128 }),
    droneId: Type.Union([DroneId, Type.Null()]),
    stage: Type.Union(DELIVERY_STAGES.map((s) => Type.Literal(s))),
    ts: EpochMs,
    location: Type.Union([Location, Type.Null()]),
    eta: Type.Union([EpochMs, Type.Null()], { description: 'Expected completion, epoch ms' }),
    correlationId: Type.Optional(CorrelationId),
    reason: Type.Optional(Type.String({ maxLength: 512 })),
    alert: Type.Optional(Type.Union(DELIVERY_ALERT_KINDS.map((k) => Type.Literal(k)), { description: 'Set on DeliveryAlert only' })),
  },
  { additionalProperties: false, $id: 'DeliveryTracking' },
);
export type DeliveryTracking = Static<typeof DeliveryTracking>;

export const ABORT_REASONS = ['cancelled', 'failed', 'reassigned'] as const;
export type AbortReason = (typeof ABORT_REASONS)[number];

/**
 * delivery-core → fleet-hub on `svc/v1/assignments/{deliveryId}` (retained, so a restarted hub
 * resumes tracking): fly this delivery with this drone, or abort it.
 */
export const DeliveryAssignment = Type.Object(
  {
    v: Type.Literal(1),
    deliveryId: Type.String({ minLength: 1, maxLength: 128 }),
    droneId: DroneId,
    ts: EpochMs,
    correlationId: Type.Optional(CorrelationId),
    action: Type.Union([Type.Literal('fly'), Type.Literal('abort')]),
    // Optional (older cores send none): why an abort was sent, so the hub's stage machine says
    // DeliveryCancelled (the customer cancelled), DeliveryFailed (the core's saga compensates) or
    // nothing (the delivery moves to another drone; DeliveryRescheduled comes from the core).
    abortReason: Type.Optional(Type.Union(ABORT_REASONS.map((r) => Type.Literal(r)), { description: 'Set on action abort only' })),
    pickup: LatLon,
    dropoff: LatLon,
    cruiseAltM: Type.Number({ minimum: 5, maximum: 120 }),
    groundDelayS: Type.Number({ minimum: 0, maximum: 600, description: 'Time on the ground at pickup and dropoff' }),
    // Optional: assignments without it (no zones, or an older core) stay valid. A hub built before
    // this field refuses one carrying it (additionalProperties: false), so upgrade hubs first.
    route: Type.Optional(Type.Object(
      {
        toPickup: Type.Array(LatLon, { maxItems: 100 }),
        toDropoff: Type.Array(LatLon, { maxItems: 100 }),
        toHome: Type.Optional(Type.Array(LatLon, { maxItems: 100 })),
      },
      { additionalProperties: false, description: 'Intermediate waypoints (ends excluded) of each leg routed round no-fly zones, flown at cruise altitude' },
    )),
  },
  { additionalProperties: false, $id: 'DeliveryAssignment' },
);
export type DeliveryAssignment = Static<typeof DeliveryAssignment>;

/**
 * Why the hub refused an assignment (stable codes): the drone is not one of the fleet's
 * (drone_unknown), stayed offline past the hub's limit (drone_offline), is flying another
 * delivery (drone_busy), or its flight controller refused the mission upload or start
 * (mission_rejected, with the MAV_MISSION_RESULT / MAV_RESULT in `mavResult`).
 */
export const DISPATCH_REFUSALS = ['drone_unknown', 'drone_offline', 'drone_busy', 'mission_rejected'] as const;
export type DispatchRefusal = (typeof DISPATCH_REFUSALS)[number];

/**
 * fleet-hub → delivery-core on `svc/v1/dispatch/{deliveryId}` (QoS 1, not retained): the hub's
 * answer to a `fly` assignment. accepted = the drone's agent uploaded and started the mission
 * (its CommandResult); refused = it never will. The same assignment sent again is answered the
 * same way, so the core may re-send on a timeout and take duplicates as harmless.
 */
export const DispatchReply = Type.Object(
  {
    v: Type.Literal(1),
    deliveryId: Type.String({ minLength: 1, maxLength: 128 }),
    droneId: DroneId,
    ts: EpochMs,
    correlationId: Type.Optional(CorrelationId),
    commandId: Type.String({ minLength: 1, maxLength: 128, description: 'The mission command the hub sent the drone for this assignment' }),
    outcome: Type.Union([Type.Literal('accepted'), Type.Literal('refused')]),
    reason: Type.Optional(Type.Union(DISPATCH_REFUSALS.map((r) => Type.Literal(r)), { description: 'Set when refused' })),
    detail: Type.Optional(Type.String({ maxLength: 512 })),
    mavResult: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'MAV_MISSION_RESULT or MAV_RESULT name, when the flight controller answered' })),
  },
  { additionalProperties: false, $id: 'DispatchReply' },
);
export type DispatchReply = Static<typeof DispatchReply>;
