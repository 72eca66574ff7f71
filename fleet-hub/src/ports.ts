import type { DeliveryTracking, DroneStatus } from '@aerie/contracts';

/**
 * Where accepted statuses go after the fleet state and the tracker: the telemetry store.
 * Batches arrive once per drain tick, so an adapter writes many points per round trip.
 * An adapter that falls behind must shed or batch inside itself; `write` must not throw.
 */
export interface TelemetryWriter {
  write(batch: readonly DroneStatus[]): void;
}

export interface StoredEvent {
  /** Increasing within the event's partition (the embedded log has one); unique in the stream. */
  offset: number;
  event: DeliveryTracking;
}

/**
 * Where delivery events go for consumers that read at their own pace: an append-only stream,
 * ordered per deliveryId (the partition key where the adapter has partitions, as Event Hubs
 * does). A consumer reads after its committed positions and commits what it has handled, so
 * after a restart it resumes, at least once. One suite pins this: test/event-stream-contract.ts.
 */
export interface EventStream {
  /**
   * Resolves once the event is durable, with its offset where the adapter knows it then (the
   * embedded log); undefined where it cannot (Event Hubs shows a producer no sequence number).
   */
  append(event: DeliveryTracking): Promise<number | undefined>;
  /** Up to `max` events after the consumer's committed positions (from the start if none). */
  read(consumer: string, max: number): Promise<StoredEvent[]>;
  /** Marks `offset` and everything before it in the same partition handled by `consumer`; never moves back. */
  commit(consumer: string, offset: number): Promise<void>;
  close(): Promise<void>;
}

/** The hub's way out to the fleet and the services (commands, tracking): QoS 1 publishes. */
export interface Outbound {
  publish(topic: string, payload: string | Buffer, retain?: boolean): void;
}
