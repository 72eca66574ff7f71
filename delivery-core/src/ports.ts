import type { DeliveryAssignment, DeliveryStage, DeliveryTracking, DroneStatus, Location } from '@aerie/contracts';
import type { Delivery, StageChange } from './domain/delivery.js';

/** Durable delivery state. Every write is committed before the call returns. */
export interface DeliveryRepository {
  /** Inserts a new delivery; false when the id already exists. */
  insert(d: Delivery, firstStage: StageChange): boolean;
  /** Group commit: all in one transaction (one fsync); per item, false when the id already exists. */
  insertMany(items: readonly { delivery: Delivery; first: StageChange }[]): boolean[];
  get(id: string): Delivery | null;
  history(id: string): StageChange[];
  /**
   * Moves the stage and records it; false when `change.eventId` was already recorded, or when
   * the patch would give a drone a second active delivery (refused by the store itself).
   */
  advance(id: string, change: StageChange, patch: Partial<Pick<Delivery, 'droneId' | 'eta' | 'lastPosition' | 'failureReason' | 'etaAtDispatch'>>): boolean;
  /** New pickup and/or dropoff, only while the stage is one of `stages` (checked atomically); false otherwise. */
  reschedule(id: string, patch: Partial<Pick<Delivery, 'pickup' | 'dropoff'>>, stages: readonly DeliveryStage[], now: number): boolean;
  update(id: string, patch: Partial<Pick<Delivery, 'eta' | 'lastPosition' | 'etaAtHalfway'>>, now: number): void;
  /** Runs `fn` as one transaction (one fsync for all its writes); nested calls join it. */
  batch<T>(fn: () => T): T;
  /** Oldest first. */
  listByStage(stages: readonly DeliveryStage[], limit: number): Delivery[];
  /** Newest last, keyset-paginated on (createdAt, id) strictly after `after`. */
  list(filter: ListFilter, limit: number): Delivery[];
  close(): void;
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
