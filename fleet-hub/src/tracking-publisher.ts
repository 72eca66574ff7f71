import { randomUUID } from 'node:crypto';
import { encodeMessage, topics, type DeliveryTracking } from '@aerie/contracts';
import type { TrackingDraft } from './domain/tracker.js';
import type { EventStream, Outbound } from './ports.js';
import { bump, type HubCounters, type HubLogger } from './hub-counters.js';

export interface TrackingPublisherOptions {
  /** Tries of one append before the event goes out on MQTT anyway and is held for the log. */
  appendAttempts?: number;
  /** Wait before the first retry (ms); doubled per try. */
  retryBaseMs?: number;
  /** Events held for the log at most; beyond, the oldest is dropped (counted and logged). */
  maxHeld?: number;
}

/**
 * Publishes what the tracker decides: appended to the event stream first, then on MQTT (svc/
 * tracking or alert topic, QoS 1) for live consumers — so an event any consumer saw is in the
 * log, a crash in between losing at most an event nobody saw (issue 5, event stream).
 *
 * Policy when the log fails: the append is retried (appendAttempts, backing off); if it still
 * fails the event goes out on MQTT anyway — live consumers (the core's saga) must not stall on
 * a broken log — and is held, in order, to be appended before anything newer once the log
 * answers again (retried on a timer too). Each failed try and each held event is counted
 * (aerie_hub_event_log_total); only past maxHeld is one dropped, counted and logged.
 * Without an event stream, events go straight out on MQTT.
 */
export class TrackingPublisher {
  /** Deliveries in order: each event waits for the one before it. */
  private chain: Promise<void> = Promise.resolve();
  /** Events published on MQTT whose append failed, oldest first. */
  private readonly held: DeliveryTracking[] = [];
  private retryTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly o: Required<TrackingPublisherOptions>;

  constructor(
    private readonly out: Outbound,
    private readonly eventStream: EventStream | null,
    private readonly counters: HubCounters,
    private readonly log: HubLogger,
    /** Each stage reached is also kept, retained, for a restarted hub or the drone's next owner (hub-sharding.ts). */
    private readonly onStage: ((deliveryId: string, stage: DeliveryTracking['stage']) => void) | null = null,
    options: TrackingPublisherOptions = {},
  ) {
    this.o = { appendAttempts: 3, retryBaseMs: 100, maxHeld: 10_000, ...options };
  }

  publish(draft: TrackingDraft): void {
    const event: DeliveryTracking = { v: 1, eventId: randomUUID(), ...draft };
    this.counters.trackingPublished += 1;
    bump(this.counters.transitions, event.stage);
    // The reason too (why it completed, failed, was cancelled), so the log says what decided an end.
    this.log(`tracking ${event.type} delivery=${event.deliveryId}${event.reason ? ` (${event.reason})` : ''}`, {
      droneId: event.droneId, deliveryId: event.deliveryId, correlationId: event.correlationId, stage: event.stage, ...(event.reason ? { reason: event.reason } : {}),
    });
    if (!this.eventStream) return this.send(event);
    this.chain = this.chain.then(() => this.deliver(event));
  }

  /** Resolves once every event handed over so far is out (appended or held, and published). */
  async drain(): Promise<void> {
    await this.chain;
  }

  /** Stops retrying held events (they stay counted as held). */
  async close(): Promise<void> {
    await this.drain();
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  /** Events published on MQTT and still waiting for the log. */
  get heldCount(): number {
    return this.held.length;
  }

  private async deliver(event: DeliveryTracking): Promise<void> {
    // Held ones first, so the log keeps the order consumers saw.
    await this.appendHeld();
    if (this.held.length > 0 || !(await this.append(event, this.o.appendAttempts))) this.hold(event);
    this.send(event);
  }

  private send(event: DeliveryTracking): void {
    const topic = event.type === 'DeliveryAlert' ? topics.alerts(event.deliveryId) : topics.tracking(event.deliveryId);
    this.out.publish(topic, encodeMessage(event));
    if (event.type !== 'EtaUpdated' && event.type !== 'DeliveryAlert') this.onStage?.(event.deliveryId, event.stage);
  }

  /** True once the event is durable in the log; every failed try is counted and logged. */
  private async append(event: DeliveryTracking, attempts: number): Promise<boolean> {
    for (let i = 0; i < attempts; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, this.o.retryBaseMs * 2 ** (i - 1)));
      try {
        await this.eventStream!.append(event);
        this.counters.eventLog.appended += 1;
        return true;
      } catch (err) {
        this.counters.eventLog.failed += 1;
        this.log(`hub event log append failed (try ${i + 1} of ${attempts}): ${String(err)}`, {
          deliveryId: event.deliveryId, droneId: event.droneId, correlationId: event.correlationId, eventId: event.eventId,
        });
      }
    }
    return false;
  }

  private hold(event: DeliveryTracking): void {
    this.held.push(event);
    this.counters.eventLog.held += 1;
    if (this.held.length > this.o.maxHeld) {
      const lost = this.held.shift()!;
      this.counters.eventLog.dropped += 1;
      this.log(`hub event log: ${this.o.maxHeld} events held, dropped the oldest ${lost.type} ${lost.eventId}`, {
        deliveryId: lost.deliveryId, correlationId: lost.correlationId, eventId: lost.eventId,
      });
    }
    this.scheduleRetry();
  }

  /** Appends held events, oldest first, one try each; stops at the first that still fails. */
  private async appendHeld(): Promise<void> {
    while (this.held.length > 0) {
      if (!(await this.append(this.held[0]!, 1))) return this.scheduleRetry();
      this.held.shift();
      this.counters.eventLog.recovered += 1;
    }
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.chain = this.chain.then(() => this.appendHeld());
    }, this.o.retryBaseMs * 2 ** this.o.appendAttempts);
    this.retryTimer.unref();
  }
}
