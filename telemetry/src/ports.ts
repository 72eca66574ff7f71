import type { DroneStatus } from '@aerie/contracts';
import type { TrackPoint } from './domain/track.js';
import type { Point } from './domain/point.js';
import type { DeliveryTrack, FleetMember } from './domain/history.js';

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

/** What a database said to one batch. Outcomes are values: a writer never throws for a refusal. */
export type WriteOutcome =
  | { ok: true }
  | {
      ok: false;
      /** 429, 5xx, or no answer at all (connection refused, timeout) */
      retryable: boolean;
      /** HTTP status, or null when the server never answered */
      status: number | null;
      /** the server's Retry-After, in ms, when it sent one */
      retryAfterMs: number | null;
      /** the server's own words, one line */
      detail: string;
    };

/**
 * One batch into one time-series database. Adapters: influx-v2-writer.ts (InfluxDB 2.x/3.x/Cloud,
 * 1.8+ through @influxdata/influxdb-client), influx-v1-writer.ts (1.x `/write`), embedded-writer.ts
 * (SQLite) and memory-writer.ts; test/writer-contract.ts is what each keeps. Batching, retries and
 * the disk spill wrap a writer (domain/buffered-writer.ts) instead of living inside it.
 */
export interface TelemetryWriter {
  readonly kind: string;
  /** Writing a point again with the same measurement, tags and timestamp overwrites it. */
  write(points: readonly Point[]): Promise<WriteOutcome>;
  close(): Promise<void>;
}

/** Batches parked while the database is down; file-spill.ts keeps them on disk across restarts. */
export interface SpillStore {
  /** Parks one batch; false when the spill is full (the caller counts the batch as dropped). */
  push(points: readonly Point[]): boolean;
  /** The oldest parked batch without removing it, or null. */
  peek(): { id: number; points: Point[] } | null;
  /** Removes a batch peek() returned, once it is written. */
  remove(id: number): void;
  /** parked points */
  size(): number;
  close(): void;
}

/**
 * History over the time-series measurements, from whichever store holds them: embedded-history.ts
 * (SQLite, when no InfluxDB is configured) or influxql-history.ts (InfluxDB 1.x, 2.x through DBRP,
 * 3.x). test/history-contract.ts is what both keep.
 */
export interface HistoryReader {
  readonly kind: string;
  /** positioned drone_status points with fromMs <= ts <= toMs, oldest first, at most `limit` */
  droneTrack(droneId: string, fromMs: number, toMs: number, limit: number): Promise<TrackPoint[]>;
  /** the track of the drone that flew a delivery, over the delivery's life; null when unknown */
  deliveryTrack(deliveryId: string, nowMs: number, limit: number): Promise<DeliveryTrack | null>;
  /** every drone's newest positioned status in (atMs - lookbackMs, atMs], by drone id */
  fleetAt(atMs: number, lookbackMs: number): Promise<FleetMember[]>;
}
