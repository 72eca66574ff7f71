import type { DeliveryAssignment, DeliveryStage, DeliveryTracking, DroneStatus, Location } from '@aerie/contracts';
import type { Delivery, StageChange } from './domain/delivery.js';

/** Durable delivery state. Every write is committed before the call returns. */
export interface DeliveryRepository {
  /** Inserts a new delivery; false when the id already exists. */
  insert(d: Delivery, firstStage: StageChange): boolean;
  get(id: string): Delivery | null;
  history(id: string): StageChange[];
  /** Moves the stage and records it; false when `change.eventId` was already recorded. */
  advance(id: string, change: StageChange, patch: Partial<Pick<Delivery, 'droneId' | 'eta' | 'lastPosition' | 'failureReason'>>): boolean;
  update(id: string, patch: Partial<Pick<Delivery, 'eta' | 'lastPosition'>>, now: number): void;
  /** Oldest first. */
  listByStage(stages: readonly DeliveryStage[], limit: number): Delivery[];
  close(): void;
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
