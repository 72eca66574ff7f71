export { FleetHub, missionCommandId, type HubCounters, type HubLogger } from './app.js';
export { hubConfig, defaultHubConfig, type HubConfig } from './config.js';
export { HubError, HubErrorCodes, type HubErrorCode } from './errors.js';
export { FileDeviceRegistry, MemoryDeviceRegistry, type DeviceRegistry, type DeviceRecord } from './adapters/device-registry.js';
export { authorizePublish, authorizeSubscribe, type Principal, type Role } from './domain/acl.js';
export { DeliveryTracker } from './domain/tracker.js';
export { deliveryMission } from './domain/mission-plan.js';
export { FleetState } from './domain/fleet-state.js';
export { parseHubCommand } from './cli.js';
