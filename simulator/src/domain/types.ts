import type { MavLandedStateValue, MavMissionResultValue, MavResultValue, MavSeverityValue, MavStateValue, MissionStateValue } from './mav-enums.js';
import type { Px4Mode } from './px4-mode.js';

/** The component a message came from, so replies can be addressed to it. */
export interface Sender {
  sysid: number;
  compid: number;
}

/** One MISSION_ITEM_INT as plain values (common.xml). x/y are degE7 in the global frames. */
export interface MissionItem {
  seq: number;
  frame: number;
  command: number;
  param1: number;
  param2: number;
  param3: number;
  param4: number;
  x: number;
  y: number;
  z: number;
  autocontinue: number;
}

/** The periodic messages a flight controller streams, each built from a snapshot. */
export type TelemetryStream =
  | 'heartbeat'
  | 'home-position'
  | 'global-position'
  | 'sys-status'
  | 'gps-raw'
  | 'vfr-hud'
  | 'extended-sys-state'
  | 'mission-current';

/** What the flight controller understands from the wire. */
export type VehicleInput =
  | { kind: 'command-long'; from: Sender; targetSystem: number; command: number; params: readonly number[]; confirmation: number }
  /** COMMAND_INT: params are param1–4 then x, y (integers, degE7 in global frames) and z. */
  | { kind: 'command-int'; from: Sender; targetSystem: number; command: number; frame: number; params: readonly number[] }
  | { kind: 'set-mode'; from: Sender; targetSystem: number; baseMode: number; customMode: number }
  | { kind: 'param-request-list'; from: Sender; targetSystem: number }
  /** PARAM_REQUEST_READ: by id, or by index when id is empty. */
  | { kind: 'param-request-read'; from: Sender; targetSystem: number; id: string; index: number }
  | { kind: 'param-set'; from: Sender; targetSystem: number; id: string; value: number }
  | { kind: 'request-data-stream'; from: Sender; targetSystem: number; streamId: number; rateHz: number; start: boolean }
  | { kind: 'mission-set-current'; from: Sender; targetSystem: number; seq: number }
  /** A HEARTBEAT from a ground station or companion (feeds the link-loss failsafe). */
  | { kind: 'gcs-heartbeat'; from: Sender; targetSystem: number }
  | { kind: 'mission-count'; from: Sender; targetSystem: number; count: number; missionType: number }
  | { kind: 'mission-item'; from: Sender; targetSystem: number; missionType: number; item: MissionItem }
  | { kind: 'mission-clear-all'; from: Sender; targetSystem: number; missionType: number }
  | { kind: 'mission-request-list'; from: Sender; targetSystem: number; missionType: number }
  | { kind: 'mission-request'; from: Sender; targetSystem: number; missionType: number; seq: number };

/** Event-like messages the flight controller sends (streams are built from snapshots). */
export type VehicleOutput =
  | { kind: 'command-ack'; to: Sender; command: number; result: MavResultValue }
  | { kind: 'mission-request'; to: Sender; seq: number; missionType: number }
  | { kind: 'mission-ack'; to: Sender; result: MavMissionResultValue; missionType: number }
  | { kind: 'mission-count'; to: Sender; count: number; missionType: number }
  | { kind: 'mission-item'; to: Sender; item: MissionItem }
  | { kind: 'mission-item-reached'; seq: number }
  | { kind: 'statustext'; severity: MavSeverityValue; text: string }
  | { kind: 'param-value'; id: string; value: number; type: number; count: number; index: number }
  /** One stream's message sent now, out of its period (REQUEST_MESSAGE, MISSION_SET_CURRENT). */
  | { kind: 'stream-now'; stream: TelemetryStream; snapshot: VehicleSnapshot };

export interface HomePosition {
  lat: number;
  lon: number;
  /** Ground altitude at home, metres above mean sea level. */
  altMsl: number;
}

export interface VehicleFaults {
  /** GPS reports no fix (arming is refused, SYS_STATUS marks GPS unhealthy). */
  gpsNoFix: boolean;
  /** A motor has failed: the vehicle refuses to arm and, in the air, lands where it is. */
  motorFailure?: boolean;
  /** The vehicle is stuck (snagged, or a frozen controller): it stops moving whatever it is told. */
  stuck?: boolean;
}

export interface VehicleSnapshot {
  sysid: number;
  timeBootMs: number;
  armed: boolean;
  mode: Px4Mode;
  modeName: string;
  customMode: number;
  baseMode: number;
  systemStatus: MavStateValue;
  landedState: MavLandedStateValue;
  home: HomePosition;
  position: { lat: number; lon: number; altMsl: number; relAltM: number };
  /** NED velocity, m/s (MAVLink's frame: vz positive down). */
  velocity: { vn: number; ve: number; vd: number };
  groundSpeedMs: number;
  headingDeg: number;
  battery: { remainingPct: number; voltageV: number; currentA: number; energyWh: number };
  /** Fix quality, and the error GPS_RAW_INT carries on top of the fused position, m. */
  gps: { fixType: number; satellites: number; hdop: number; noiseNorthM?: number; noiseEastM?: number };
  mission: { count: number; seq: number; state: MissionStateValue; inMissionMode: boolean };
  faults: VehicleFaults;
  /** 'px4' or 'ardupilot'. */
  personality: string;
  payload: { attached: boolean; massKg: number };
  /** The failsafe that last took over, or null. */
  failsafe: string | null;
  /** Wind at the vehicle, m/s towards north and east. */
  wind: { northMs: number; eastMs: number };
  /** Distance flown since boot, m. */
  distanceM: number;
}
