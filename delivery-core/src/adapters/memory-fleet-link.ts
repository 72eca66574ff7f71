import type { DeliveryAssignment, DeliveryTracking, DroneStatus } from '@aerie/contracts';
import type { FleetLink } from '../ports.js';

/** In-memory fleet link: tests push statuses and tracking in and read assignments out. */
export class MemoryFleetLink implements FleetLink {
  readonly assignments = new Map<string, DeliveryAssignment | null>();
  private readonly statusListeners: ((s: DroneStatus) => void)[] = [];
  private readonly trackingListeners: ((e: DeliveryTracking) => void)[] = [];

  onStatus(listener: (s: DroneStatus) => void): void {
    this.statusListeners.push(listener);
  }
  onTracking(listener: (e: DeliveryTracking) => void): void {
    this.trackingListeners.push(listener);
  }
  publishAssignment(deliveryId: string, a: DeliveryAssignment | null): void {
    this.assignments.set(deliveryId, a);
  }
  pushStatus(s: DroneStatus): void {
    for (const l of this.statusListeners) l(s);
  }
  pushTracking(e: DeliveryTracking): void {
    for (const l of this.trackingListeners) l(e);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}
