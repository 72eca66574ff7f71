import type { CommandResult, DroneEvent, DroneStatus } from '@aerie/contracts';
import type { FcTelemetry } from './domain/telemetry.js';
import type { MissionItem } from './domain/mission.js';

/** A MAVLink ACK outcome: MAV_RESULT or MAV_MISSION_RESULT, with its name; 'timeout' when none came. */
export type AckOutcome = { result: number; name: string; accepted: boolean } | 'timeout';

/** The agent's view of the flight controller. */
export interface FlightControllerLink {
  onTelemetry(listener: (msg: FcTelemetry) => void): void;
  sendHeartbeat(): void;
  /** COMMAND_LONG with the command protocol's retries; resolves with the COMMAND_ACK. */
  commandLong(command: number, params: readonly number[]): Promise<AckOutcome>;
  /** Mission upload protocol (MISSION_COUNT → MISSION_REQUEST_INT → MISSION_ITEM_INT → MISSION_ACK). */
  uploadMission(items: readonly MissionItem[]): Promise<AckOutcome>;
  stats(): Record<string, number>;
  close(): Promise<void>;
}

/** The agent's way to the cloud: MQTT or (later) IoT Hub. */
export interface Uplink {
  publishStatus(status: DroneStatus): void;
  publishEvent(event: DroneEvent): void;
  publishResult(result: CommandResult): void;
  onCommand(listener: (payload: Buffer) => void): void;
  readonly connected: boolean;
  close(): Promise<void>;
}
