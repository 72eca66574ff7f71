import type { TelemetryStream, VehicleInput, VehicleOutput, VehicleSnapshot } from './domain/types.js';
import type { Rng } from './domain/random.js';

export type { Clock } from '@aerie/contracts';

export type { TelemetryStream } from './domain/types.js';

/** Faults on the wire: a dropped link passes nothing either way; corruption flips bytes. */
export interface LinkImpairment {
  down: boolean;
  /** Share of outgoing datagrams with one byte flipped, 0–1. */
  corruptRate: number;
}

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
  /** Lets the link read faults the app injects (read on every send and receive). */
  impair?(impairment: LinkImpairment, rng: Rng): void;
  stats(): VehicleLinkStats;
  close(): Promise<void>;
}
