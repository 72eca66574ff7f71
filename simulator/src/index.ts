export { startSimVehicle, runVehicle, type SimVehicle, type SimVehicleOptions } from './app.js';
export { startSimFleet, gridHomes, type SimFleet, type SimFleetOptions } from './fleet.js';
export { WarpClock, ManualClock, type WarpClockOptions } from './domain/warp-clock.js';
export { Vehicle, type VehicleOptions } from './domain/vehicle.js';
export {
  PX4_MODES, Px4MainMode, Px4AutoSubMode, encodeCustomMode, encodeBaseMode, px4ModeFrom, modeName,
  type Px4Mode, type Px4MainModeValue, type Px4AutoSubModeValue,
} from './domain/px4-mode.js';
export { DEFAULT_PHYSICS, DEFAULT_BATTERY, type PhysicsParams, type BatteryParams } from './domain/physics.js';
export type {
  HomePosition, MissionItem, Sender, VehicleFaults, VehicleInput, VehicleOutput, VehicleSnapshot,
} from './domain/types.js';
export type { MissionTransferStats } from './domain/mission-transfer.js';
export type { TelemetryStream, VehicleLink, VehicleLinkStats } from './ports.js';
export { MemoryVehicleLink } from './adapters/memory-link.js';
export { openUdpVehicleLink, type UdpVehicleLinkOptions } from './adapters/udp-link.js';
export { DEFAULT_CONFIG, parseConfig, fleetOptions, type SimConfig } from './config.js';
export { SimError, SimErrorCodes, type SimErrorCode } from './errors.js';
