import type { DroneStatus } from '@aerie/contracts';
import type { TrackPoint } from './domain/track.js';

export type { TrackPoint } from './domain/track.js';

export interface AppendResult {
  inserted: number;
  duplicates: number;
}

/**
 * History of DroneStatus messages. Implementations: adapters/sqlite-store.ts (durable) and
 * adapters/memory-store.ts (tests, demos); test/store-contract.ts is the behaviour both keep.
 * Calls are synchronous because the embedded store is; a networked store would sit behind a
 * buffering wrapper rather than change this port.
 */
export interface TelemetryStore {
  /**
   * Stores a batch atomically. Idempotent on (droneId, bootId, seq): a status already stored,
   * or repeated inside the batch, counts as a duplicate and keeps the first copy.
   */
  append(points: readonly DroneStatus[]): AppendResult;
  /**
   * Positioned points of one drone with fromMs <= ts <= toMs, oldest first (ties by bootId, seq),
   * at most `limit` of them. Statuses without a position are kept but never appear here.
   */
  track(droneId: string, fromMs: number, toMs: number, limit: number): TrackPoint[];
  /** The newest positioned point of a drone, or null. */
  latest(droneId: string): TrackPoint | null;
  /** Idempotent. Any other call afterwards throws TelemetryError TEL_ERR_STORE_CLOSED. */
  close(): void;
}

/** One line per call; where lines go is the adapter's business (stderr, memory for tests). */
export interface Logger {
  info(line: string): void;
  warn(line: string): void;
  error(line: string): void;
}
