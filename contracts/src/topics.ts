/**
 * MQTT topic scheme. A drone may publish and subscribe only below `fleet/v1/{its id}/`;
 * `svc/v1/` belongs to the services.
 */
export const FLEET_PREFIX = 'fleet/v1';
export const SVC_PREFIX = 'svc/v1';

export const DRONE_CHANNELS = ['status', 'events', 'online', 'cmd', 'cmd/result'] as const;
export type DroneChannel = (typeof DRONE_CHANNELS)[number];

export const topics = {
  status: (droneId: string) => `${FLEET_PREFIX}/${droneId}/status`,
  events: (droneId: string) => `${FLEET_PREFIX}/${droneId}/events`,
  online: (droneId: string) => `${FLEET_PREFIX}/${droneId}/online`,
  command: (droneId: string) => `${FLEET_PREFIX}/${droneId}/cmd`,
  commandResult: (droneId: string) => `${FLEET_PREFIX}/${droneId}/cmd/result`,
  assignment: (deliveryId: string) => `${SVC_PREFIX}/assignments/${deliveryId}`,
  tracking: (deliveryId: string) => `${SVC_PREFIX}/tracking/${deliveryId}`,
  /** DeliveryTracking of type DeliveryAlert: stale telemetry, battery reserve, failsafe. */
  alerts: (deliveryId: string) => `${SVC_PREFIX}/alerts/${deliveryId}`,
  /** DispatchReply: the hub's answer to a `fly` assignment (QoS 1, not retained). */
  dispatchReply: (deliveryId: string) => `${SVC_PREFIX}/dispatch/${deliveryId}`,
} as const;

export const subscriptions = {
  allStatus: `${FLEET_PREFIX}/+/status`,
  allEvents: `${FLEET_PREFIX}/+/events`,
  allOnline: `${FLEET_PREFIX}/+/online`,
  allCommandResults: `${FLEET_PREFIX}/+/cmd/result`,
  allAssignments: `${SVC_PREFIX}/assignments/+`,
  allTracking: `${SVC_PREFIX}/tracking/+`,
  allAlerts: `${SVC_PREFIX}/alerts/+`,
  allDispatchReplies: `${SVC_PREFIX}/dispatch/+`,
} as const;

export interface FleetTopic {
  droneId: string;
  channel: DroneChannel;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** Parses `fleet/v1/{droneId}/{channel}`; anything else is null. */
export function parseFleetTopic(topic: string): FleetTopic | null {
  const parts = topic.split('/');
  if (parts.length < 4 || `${parts[0]}/${parts[1]}` !== FLEET_PREFIX) return null;
  const droneId = parts[2] ?? '';
  if (!ID.test(droneId)) return null;
  const channel = parts.slice(3).join('/');
  return (DRONE_CHANNELS as readonly string[]).includes(channel) ? { droneId, channel: channel as DroneChannel } : null;
}

export interface ServiceTopic {
  kind: 'assignments' | 'tracking' | 'dispatch';
  deliveryId: string;
}

export function parseServiceTopic(topic: string): ServiceTopic | null {
  const parts = topic.split('/');
  if (parts.length !== 4 || `${parts[0]}/${parts[1]}` !== SVC_PREFIX) return null;
  const kind = parts[2];
  const deliveryId = parts[3] ?? '';
  if ((kind !== 'assignments' && kind !== 'tracking' && kind !== 'dispatch') || deliveryId.length === 0) return null;
  return { kind, deliveryId };
}

/** True when `droneId` may use `topic`: only its own subtree. */
export function isDroneOwnTopic(droneId: string, topic: string): boolean {
  return topic.startsWith(`${FLEET_PREFIX}/${droneId}/`) && parseFleetTopic(topic)?.droneId === droneId;
}
