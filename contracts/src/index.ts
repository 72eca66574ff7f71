export { DroneId, EpochMs, CorrelationId, LatLon, Location } from './messages/common.js';
export {
  DroneStatus, FlightMode, LandedState, FLIGHT_MODES, LANDED_STATES, AUTOPILOTS, PAYLOAD_STATES,
} from './messages/drone-status.js';
export { DroneEvent, DRONE_EVENT_KINDS, type DroneEventKind } from './messages/drone-event.js';
export {
  DroneCommand, CommandResult, CommandAction, MissionStep, COMMAND_OUTCOMES,
} from './messages/drone-command.js';
export {
  DeliveryTracking, DeliveryAssignment, DELIVERY_STAGES, TRACKING_EVENT_TYPES,
  type DeliveryStage, type TrackingEventType,
  DispatchReply, DISPATCH_REFUSALS, ABORT_REASONS, type DispatchRefusal, type AbortReason,
} from './messages/delivery.js';
export {
  topics, subscriptions, parseFleetTopic, parseServiceTopic, isDroneOwnTopic,
  FLEET_PREFIX, SVC_PREFIX, DRONE_CHANNELS, type DroneChannel, type FleetTopic, type ServiceTopic,
} from './topics.js';
export {
  messageSchemas, jsonSchemaOf, validateMessage, decodeMessage, encodeMessage,
  type MessageName, type MessageOf, type Decoded,
} from './validate.js';
export { ContractErrorCodes, type ContractErrorCode } from './errors.js';
export { haversineM, type Clock, systemClock } from './geo-time.js';
export { isTrustedProxyEntry } from './trusted-proxies.js';
