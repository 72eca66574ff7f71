/**
 * The hub's bounded intake, and its shedding policy under overload:
 *
 * - Status: FIFO per drone, drained round-robin across drones so one chatty drone cannot starve
 *   the others. While fewer than `maxStatuses` are pending nothing is shed. Past it, a new status
 *   replaces the oldest pending one of the same drone (counted as shed): a status is a snapshot,
 *   so the newest carries everything the fleet state and the tracker need. Pending statuses
 *   never exceed `maxStatuses` plus one per drone (at most `maxDrones`), whatever the offered rate.
 * - Everything else (events, online, command results): one FIFO, drained before statuses, never
 *   coalesced. Per-connection rate limits at the broker keep it small; past `maxEvents` (only
 *   reachable by a flood the limits let through) the excess is shed and counted, not queued
 *   without bound.
 *
 * Pure: holds raw payloads, does no I/O and no parsing, so taking a message in stays cheap
 * whatever the load, and the expensive part (parse, validate, track, write) is what gets shed.
 */
export interface Pending {
  droneId: string;
  channel: string;
  payload: Buffer;
}

export interface IngestQueueStats {
  pendingStatuses: number;
  pendingEvents: number;
  shedStatuses: number;
  shedEvents: number;
}

export interface IngestLimits {
  maxStatuses: number;
  maxDrones: number;
  maxEvents: number;
}

export class IngestQueue {
  // Map order is the round-robin order: a drone goes to the back after each take.
  private readonly statuses = new Map<string, Buffer[]>();
  private pendingStatuses = 0;
  private events: Pending[] = [];
  private eventHead = 0;
  private shedStatuses = 0;
  private shedEvents = 0;

  constructor(private readonly limits: IngestLimits) {}

  /** Returns true when a status was shed to make room (the drone's oldest pending one, or this one). */
  offerStatus(droneId: string, payload: Buffer): boolean {
    const own = this.statuses.get(droneId);
    if (own && this.pendingStatuses >= this.limits.maxStatuses) {
      own.shift();
      own.push(payload);
      this.shedStatuses += 1;
      return true;
    }
    if (own) own.push(payload);
    else if (this.statuses.size >= this.limits.maxDrones) {
      this.shedStatuses += 1;
      return true;
    } else this.statuses.set(droneId, [payload]);
    this.pendingStatuses += 1;
    return false;
  }

  /** Returns true when the queue was full and this message was shed. */
  offerEvent(droneId: string, channel: string, payload: Buffer): boolean {
    if (this.events.length - this.eventHead >= this.limits.maxEvents) {
      this.shedEvents += 1;
      return true;
    }
    this.events.push({ droneId, channel, payload });
    return false;
  }

  /** Next message to process: events first, then the oldest pending status. */
  take(): Pending | undefined {
    if (this.eventHead < this.events.length) {
      const e = this.events[this.eventHead];
      this.eventHead += 1;
      if (this.eventHead === this.events.length) {
        this.events = [];
        this.eventHead = 0;
      }
      return e;
    }
    for (const [droneId, list] of this.statuses) {
      const payload = list.shift()!;
      this.pendingStatuses -= 1;
      this.statuses.delete(droneId);
      if (list.length > 0) this.statuses.set(droneId, list);
      return { droneId, channel: 'status', payload };
    }
    return undefined;
  }

  /** True while statuses are past `maxStatuses`, i.e. being shed. */
  shedding(): boolean {
    return this.pendingStatuses >= this.limits.maxStatuses;
  }

  get size(): number {
    return this.pendingStatuses + this.events.length - this.eventHead;
  }

  stats(): IngestQueueStats {
    return {
      pendingStatuses: this.pendingStatuses,
      pendingEvents: this.events.length - this.eventHead,
      shedStatuses: this.shedStatuses,
      shedEvents: this.shedEvents,
    };
  }
}
