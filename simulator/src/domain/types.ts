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

/** What the flight controller understands from the wire. */
export type VehicleInput =
  | { kind: 'command-long'; from: Sender; targetSystem: number; command: number; params: readonly number[]; confirmation: number }
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
  | { kind: 'statustext'; severity: MavSeverityValue; text: string };

export interface HomePosition {
  lat: number;
  lon: number;
  /** Ground altitude at home, metres above mean sea level. */
  altMsl: number;
}

export interface VehicleFaults {
  /** GPS reports no fix (arming is refused, SYS_STATUS marks GPS unhealthy). */
  gpsNoFix: boolean;
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
  gps: { fixType: number; satellites: number; hdop: number };
  mission: { count: number; seq: number; state: MissionStateValue; inMissionMode: boolean };
  faults: VehicleFaults;
}
