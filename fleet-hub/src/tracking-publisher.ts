import { randomUUID } from 'node:crypto';
import { encodeMessage, topics, type DeliveryTracking } from '@aerie/contracts';
import type { TrackingDraft } from './domain/tracker.js';
import type { EventStream, Outbound } from './ports.js';
import { bump, type HubCounters, type HubLogger } from './hub-counters.js';

/**
 * Publishes what the tracker decides: on MQTT (svc/ tracking or alert topic, QoS 1) for live
 * consumers, and appended to the event stream for consumers that read at their own pace.
 */
export class TrackingPublisher {
  constructor(
    private readonly out: Outbound,
    private readonly eventStream: EventStream | null,
    private readonly counters: HubCounters,
    private readonly log: HubLogger,
    /** Scale-out: each stage reached is also handed over, retained, to whichever hub owns the drone next. */
    private readonly onStage: ((deliveryId: string, stage: DeliveryTracking['stage']) => void) | null = null,
  ) {}

  publish(draft: TrackingDraft): void {
    const event: DeliveryTracking = { v: 1, eventId: randomUUID(), ...draft };
    const topic = event.type === 'DeliveryAlert' ? topics.alerts(event.deliveryId) : topics.tracking(event.deliveryId);
    this.out.publish(topic, encodeMessage(event));
    this.eventStream?.append(event).catch((err: unknown) => this.log(`event stream append failed: ${String(err)}`, { deliveryId: event.deliveryId, correlationId: event.correlationId }));
    if (event.type !== 'EtaUpdated' && event.type !== 'DeliveryAlert') this.onStage?.(event.deliveryId, event.stage);
    this.counters.trackingPublished += 1;
    bump(this.counters.transitions, event.stage);
    // The reason too (why it completed, failed, was cancelled), so the log says what decided an end.
    this.log(`tracking ${event.type} delivery=${event.deliveryId}${event.reason ? ` (${event.reason})` : ''}`, {
      droneId: event.droneId, deliveryId: event.deliveryId, correlationId: event.correlationId, stage: event.stage, ...(event.reason ? { reason: event.reason } : {}),
    });
  }
}
