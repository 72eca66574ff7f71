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
  /** Asks the FC for telemetry at `hz` (SET_MESSAGE_INTERVAL, REQUEST_DATA_STREAM fallback); 'data-stream' means no ACK was possible. */
  requestStreams(hz: number): Promise<{ method: string; acks: Record<string, string> }>;
  /** Remembers `hz` as the rate to ask again after the FC reboots. */
  setStreamHz?(hz: number): void;
  stats(): Record<string, number>;
  close(): Promise<void>;
}

export type UplinkKind = 'status' | 'event' | 'result';

/**
 * The agent's way to the cloud: MQTT now; Azure IoT Hub is the next adapter behind this same
 * port (its local IoT Hub-compatible test endpoint is being designed with the fleet hub).
 */
export interface Uplink {
  publishStatus(status: DroneStatus): void;
  publishEvent(event: DroneEvent): void;
  publishResult(result: CommandResult): void;
  onCommand(listener: (payload: Buffer) => void): void;
  readonly connected: boolean;
  close(): Promise<void>;
  /** Publishes an encoded message and resolves true once the broker has it (MQTT PUBACK); false on failure. */
  publishConfirmed?(kind: UplinkKind, body: Buffer): Promise<boolean>;
  /** Called on every connect and disconnect. */
  onConnectionChange?(listener: (connected: boolean) => void): void;
}

/** One message waiting in the store-and-forward queue. */
export interface SpoolRecord {
  id: number;
  kind: UplinkKind;
  /** When it was queued (ms since the epoch). */
  at: number;
  body: Buffer;
}

export interface SpoolStats {
  appended: number;
  forwarded: number;
  /** Dropped to stay under the size limit (oldest status first) or for age, per kind. */
  dropped: Record<UplinkKind, number>;
}

/**
 * A bounded FIFO of messages kept while the uplink is down. The disk implementation survives
 * kill -9 and power cuts; the memory one is its twin for tests. One contract suite runs both.
 */
export interface Spool {
  append(kind: UplinkKind, body: Buffer, at: number): void;
  /** The oldest `max` records, in order, without removing them. */
  peek(max: number): SpoolRecord[];
  /** Removes every record up to and including `id` (they were delivered). */
  ack(id: number): void;
  /** Drops what is older than the configured ages at `now`. */
  expire(now: number): void;
  readonly length: number;
  readonly bytes: number;
  readonly stats: SpoolStats;
  close(): void;
}
