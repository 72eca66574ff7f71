import type { VehicleInput, VehicleOutput, VehicleSnapshot } from './domain/types.js';

export type { Clock } from '@aerie/contracts';

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

export interface VehicleLinkStats {
  received: number;
  sent: number;
  /** Sends with no peer known yet (nobody has talked to a vehicle without a fixed peer). */
  sendDropped: number;
  /** Frames that failed CRC or were otherwise not MAVLink. */
  badFrames: number;
  /** Socket errors (ICMP port unreachable and the like), counted, never thrown. */
  socketErrors: number;
}

/** One vehicle's way to its ground station: MAVLink over UDP, or memory in tests. */
export interface VehicleLink {
  /** Local port bound, 0 for links without one. */
  readonly port: number;
  onInput(listener: (input: VehicleInput) => void): void;
  sendEvent(out: VehicleOutput): void;
  /** May hold the message until flush(); events are never held. */
  sendTelemetry(stream: TelemetryStream, snapshot: VehicleSnapshot): void;
  /** Sends the telemetry held since the last flush (one datagram on UDP). */
  flush?(): void;
  stats(): VehicleLinkStats;
  close(): Promise<void>;
}
