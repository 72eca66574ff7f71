import type { DeliveryAssignment, DeliveryStage, DeliveryTracking, DispatchReply, DroneStatus, Location } from '@aerie/contracts';
import type { Delivery, StageChange } from './domain/delivery.js';

/**
 * Durable delivery state. Every write is committed before its promise resolves. Calls made
 * outside `batch` each run in their own transaction.
 */
export interface DeliveryRepository {
  /** Inserts a new delivery; false when the id already exists. */
  insert(d: Delivery, firstStage: StageChange): Promise<boolean>;
  /** Group commit: all in one transaction (one fsync); per item, false when the id already exists. */
  insertMany(items: readonly { delivery: Delivery; first: StageChange }[]): Promise<boolean[]>;
  get(id: string): Promise<Delivery | null>;
  history(id: string): Promise<StageChange[]>;
  /**
   * Moves the stage and records it; false when `change.eventId` was already recorded, or when
   * the patch would give a drone a second active delivery, or give the delivery back the drone a
   * reschedule took it from (`abortedDroneId`) — both refused by the store itself; inside a batch
   * only this change is undone, not the batch.
   */
  advance(id: string, change: StageChange, patch: Partial<Pick<Delivery, 'droneId' | 'eta' | 'lastPosition' | 'failureReason' | 'etaAtDispatch'>>): Promise<boolean>;
  /**
   * New places, window, route (null clears it) or aborted drone, only while the stage is one of
   * `stages` (checked atomically); false otherwise. With `replan`, the delivery also goes back to
   * planning in the same write: that stage (Requested) recorded, drone, ETA and route cleared.
   */
  reschedule(
    id: string, patch: Partial<Pick<Delivery, 'pickup' | 'dropoff' | 'window' | 'route' | 'abortedDroneId'>>, stages: readonly DeliveryStage[], now: number, replan?: StageChange,
  ): Promise<boolean>;
  /** `route: null` clears the stored route. */
  update(id: string, patch: Partial<Pick<Delivery, 'eta' | 'lastPosition' | 'etaAtHalfway' | 'route'>>, now: number): Promise<void>;
  /**
   * Runs `fn` as one transaction (one fsync for all its writes) through `tx`, the repository
   * bound to it: committed when `fn` resolves, rolled back when it rejects. A row read through
   * `tx` stays as read until the commit (the embedded stores run one transaction at a time,
   * PostgreSQL locks the row). `tx.batch` joins the open transaction.
   */
  batch<T>(fn: (tx: DeliveryRepository) => Promise<T>): Promise<T>;
  /** Oldest first. */
  listByStage(stages: readonly DeliveryStage[], limit: number): Promise<Delivery[]>;
  /** Newest last, keyset-paginated on (createdAt, id) strictly after `after`. */
  list(filter: ListFilter, limit: number): Promise<Delivery[]>;
  /**
   * The ingestion queue's consumer (exactly once): inserts the drained requests (as insertMany)
   * and records how far queue `queue` has been consumed, in one transaction.
   */
  drainQueue(queue: string, items: readonly { delivery: Delivery; first: StageChange }[], position: number): Promise<boolean[]>;
  /** How many deliveries are in one of `stages`, counting up to `limit` at most. */
  countByStage(stages: readonly DeliveryStage[], limit: number): Promise<number>;
  /** The position `drainQueue` last recorded for `queue`; 0 when never drained. */
  queuePosition(queue: string): Promise<number>;
  /** Every delivery id: the ingestion queue's idempotency index is rebuilt from them at start. */
  allIds(): Promise<string[]>;
  close(): Promise<void>;
}

/** A record read back from an ingestion queue: its bytes and where it ends in the log. */
export interface QueuedRecord {
  payload: Buffer;
  /** The position just past this record: what a consumer records once the record is drained. */
  end: number;
}

/**
 * The durable ingestion queue of issue 7 (accepted requests wait here, group-committed, until
 * the drainer moves them into the deliveries table at the scheduler's pace). Positions are
 * byte offsets in one ever-growing log, below 2^53.
 */
export interface IngestQueue {
  /** Names this queue's consumer position in the database (one queue per instance). */
  readonly id: string;
  /**
   * Recovery, before any append: the records at or after `from` (the position the database
   * recorded), oldest first. A torn tail is cut off; later appends land at or after `from`.
   */
  open(from: number): Promise<QueuedRecord[]>;
  /** Appends one record; resolves with its end position once it is on disk (one fsync per group). */
  append(payload: Buffer): Promise<number>;
  /** Everything before `position` is committed downstream: its storage may be reclaimed. */
  consumed(position: number): Promise<void>;
  close(): Promise<void>;
}

export interface ListFilter {
  stages?: readonly DeliveryStage[];
  owner?: string;
  /** createdAt bounds, epoch ms, inclusive from / exclusive to. */
  from?: number;
  to?: number;
  after?: { createdAt: number; id: string };
  /** Only deliveries with no pickup window start, or one at or before this (epoch ms): the scheduler's horizon. */
  pickupFromUntil?: number;
}

/** How delivery-core talks to the fleet: statuses and tracking in, assignments out. */
export interface FleetLink {
  onStatus(listener: (s: DroneStatus) => void): void;
  /** The listener's promise settles once the event is committed (or known to need nothing); a link with
   *  acknowledgements (MQTT QoS 1) acknowledges only then, and offers it again when it rejects. */
  onTracking(listener: (e: DeliveryTracking) => void | Promise<void>): void;
  /** Retained, so a restarted hub resumes tracking; null clears it. */
  publishAssignment(deliveryId: string, a: DeliveryAssignment | null): void;
  /** The hub's answers to `fly` assignments (svc/v1/dispatch/{deliveryId}); repeats are possible. */
  onDispatchReply(listener: (r: DispatchReply) => void): void;
  close(): Promise<void>;
}

export type { Location };
