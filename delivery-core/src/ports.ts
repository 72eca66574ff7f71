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
   * the patch would give a drone a second active delivery (refused by the store itself; inside a
   * batch only this change is undone, not the batch).
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
  close(): Promise<void>;
}

export interface ListFilter {
  stages?: readonly DeliveryStage[];
  owner?: string;
  /** createdAt bounds, epoch ms, inclusive from / exclusive to. */
  from?: number;
  to?: number;
  after?: { createdAt: number; id: string };
}

/** How delivery-core talks to the fleet: statuses and tracking in, assignments out. */
export interface FleetLink {
  onStatus(listener: (s: DroneStatus) => void): void;
  onTracking(listener: (e: DeliveryTracking) => void): void;
  /** Retained, so a restarted hub resumes tracking; null clears it. */
  publishAssignment(deliveryId: string, a: DeliveryAssignment | null): void;
  close(): Promise<void>;
}

export type { Location };
  /** The hub's answers to `fly` assignments (svc/v1/dispatch/{deliveryId}); repeats are possible. */
  onDispatchReply(listener: (r: DispatchReply) => void): void;
