export { startSimVehicle, runVehicle, schedulerFor, type SimVehicle, type SimVehicleOptions, type FaultKind, type FaultSpec } from './app.js';
export { startSimFleet, gridHomes, MAX_FLEET, type SimFleet, type SimFleetOptions } from './fleet.js';
export { startFleet, type Fleet, type Drone, type StartFleetOptions } from './harness.js';
export {
  parseScenario, faultTimeline, DEFAULT_AIRFRAME, type Scenario, type Airframe, type ScheduledFault, type DeliveryRequest, type FleetGroup,
} from './scenario.js';
export { SimScheduler, type SchedulerOptions, type SchedulerStats, type TickTask } from './domain/scheduler.js';
export { ARDUPILOT, PX4, CopterMode, personalityOf, type Personality, type PersonalityName } from './domain/personality.js';
export type { VehicleSettings, FailsafeAction } from './domain/params.js';
export type { WindParams } from './domain/wind.js';
export type { Wind } from './domain/physics.js';
export { WarpClock, ManualClock, type WarpClockOptions } from './domain/warp-clock.js';
export { Vehicle, type VehicleOptions } from './domain/vehicle.js';
export {
  PX4_MODES, Px4MainMode, Px4AutoSubMode, encodeCustomMode, encodeBaseMode, px4ModeFrom, modeName,
  type Px4Mode, type Px4MainModeValue, type Px4AutoSubModeValue,
} from './domain/px4-mode.js';
export { DEFAULT_PHYSICS, DEFAULT_BATTERY, type PhysicsParams, type BatteryParams } from './domain/physics.js';
// The flight model itself, for tools that fly it without a MAVLink link (delivery-core's bench:eta).
export { step, restingAt, groundSpeedMs, type Kinematics, type FlightTarget } from './domain/physics.js';
export { WindField, NO_WIND } from './domain/wind.js';
export { Rng, seedFor } from './domain/random.js';
export { seededRandom, pointNear, randomRequest } from './domain/demand.js';
export { guide, takeoff, goTo, land, type Maneuver, type Guidance } from './domain/maneuver.js';
export type {
  HomePosition, MissionItem, Sender, VehicleFaults, VehicleInput, VehicleOutput, VehicleSnapshot,
} from './domain/types.js';
export type { MissionTransferStats } from './domain/mission-transfer.js';
export type { TelemetryStream, VehicleLink, VehicleLinkStats, LinkImpairment } from './ports.js';
export { MemoryVehicleLink } from './adapters/memory-link.js';
export { openUdpVehicleLink, type UdpVehicleLinkOptions } from './adapters/udp-link.js';
export { openTcpVehicleLink, type TcpVehicleLinkOptions } from './adapters/tcp-link.js';
export { DEFAULT_CONFIG, parseConfig, fleetOptions, type SimConfig } from './config.js';
export { SimError, SimErrorCodes, type SimErrorCode } from './errors.js';
