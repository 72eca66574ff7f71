import type { DeliveryAssignment, DeliveryTracking, DispatchReply, DroneStatus } from '@aerie/contracts';
import type { FleetLink } from '../ports.js';

/** What the in-memory hub answers a `fly` assignment with (null: nothing; the test answers with pushReply). */
export type MemoryAnswer = (a: DeliveryAssignment) => Pick<DispatchReply, 'outcome' | 'reason' | 'detail' | 'mavResult'> | null;

/**
 * In-memory fleet link: tests push statuses, tracking and hub answers in and read assignments
 * out. Like a hub whose drones take every mission, it answers each `fly` assignment `accepted`
 * unless given another `answer`.
 */
export class MemoryFleetLink implements FleetLink {
  readonly assignments = new Map<string, DeliveryAssignment | null>();
  private readonly statusListeners: ((s: DroneStatus) => void)[] = [];
  private readonly trackingListeners: ((e: DeliveryTracking) => void | Promise<void>)[] = [];
  private readonly replyListeners: ((r: DispatchReply) => void)[] = [];

  constructor(public answer: MemoryAnswer = () => ({ outcome: 'accepted' })) {}

  onStatus(listener: (s: DroneStatus) => void): void {
    this.statusListeners.push(listener);
  }
  onTracking(listener: (e: DeliveryTracking) => void | Promise<void>): void {
    this.trackingListeners.push(listener);
  }
  onDispatchReply(listener: (r: DispatchReply) => void): void {
    this.replyListeners.push(listener);
  }
  publishAssignment(deliveryId: string, a: DeliveryAssignment | null): void {
    this.assignments.set(deliveryId, a);
    const r = a?.action === 'fly' ? this.answer(a) : null;
    if (a && r) {
      this.pushReply({
        v: 1, deliveryId, droneId: a.droneId, ts: a.ts, commandId: `mission-${deliveryId}`, ...(a.correlationId ? { correlationId: a.correlationId } : {}), ...r,
      });
    }
  }
  pushStatus(s: DroneStatus): void {
    for (const l of this.statusListeners) l(s);
  }
  pushTracking(e: DeliveryTracking): void {
    // No acknowledgement to hold back in memory; the service has logged a failed write.
    for (const l of this.trackingListeners) void Promise.resolve(l(e)).catch(() => undefined);
  }
  pushReply(r: DispatchReply): void {
    for (const l of this.replyListeners) l(r);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}
