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
  offset: number;
  event: DeliveryTracking;
}

/**
 * Where delivery events go for consumers that read at their own pace: an append-only stream,
 * ordered, partitioned by deliveryId where the adapter has partitions. A consumer reads from its
 * committed offset and commits what it has handled, so after a restart it resumes, at least once.
 */
export interface EventStream {
  append(event: DeliveryTracking): Promise<number>;
  /** Up to `max` events after the consumer's committed offset (from the start if none). */
  read(consumer: string, max: number): Promise<StoredEvent[]>;
  /** Marks everything up to and including `offset` handled by `consumer`. */
  commit(consumer: string, offset: number): Promise<void>;
  close(): Promise<void>;
}

/** The hub's way out to the fleet and the services (commands, tracking): QoS 1 publishes. */
export interface Outbound {
  publish(topic: string, payload: string | Buffer): void;
}
