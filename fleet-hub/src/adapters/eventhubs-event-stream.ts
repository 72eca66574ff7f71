import { EventHubConsumerClient, EventHubProducerClient, earliestEventPosition, type ReceivedEventData } from '@azure/event-hubs';
import { BlobCheckpointStore } from '@azure/eventhubs-checkpointstore-blob';
import { ContainerClient } from '@azure/storage-blob';
import { validateMessage, type DeliveryTracking } from '@aerie/contracts';
import type { EventStream, StoredEvent } from '../ports.js';

export interface EventHubsStreamOptions {
  connectionString: string;
  hubName: string;
  /** The consumer group reads go through (must exist on the hub). */
  consumerGroup: string;
  /** Blob container for each stream consumer's committed positions (one checkpoint per partition). */
  storageConnectionString: string;
  container: string;
}

/**
 * The event-stream port on Azure Event Hubs: partition key = deliveryId, so one delivery's events
 * stay in order on one partition; the correlationId rides as the AMQP correlation-id and as an
 * application property. A stream consumer's position is a checkpoint per partition in blob
 * storage (BlobCheckpointStore, keyed by the consumer's name where Event Hubs puts a consumer
 * group), so a consumer resumes after a restart of either side. Offsets are
 * `sequenceNumber × partitions + partition index`: increasing within a partition, and a commit
 * marks its partition up to that event (StoredEvent in ports.ts).
 */
export class EventHubsEventStream implements EventStream {
  /** Committed sequence number per consumer and partition index (-1 = nothing yet). */
  private readonly committed = new Map<string, number[]>();
  /** Service offsets of events read here, which the checkpoint store records beside the sequence number. */
  private readonly serviceOffsets = new Map<number, string>();
  /** Events on the hub that are not DeliveryTracking: skipped by readers, counted. */
  invalid = 0;

  private constructor(
    private readonly producer: EventHubProducerClient,
    private readonly consumer: EventHubConsumerClient,
    private readonly store: BlobCheckpointStore,
    private readonly partitionIds: readonly string[],
    private readonly hubName: string,
  ) {}

  static async open(o: EventHubsStreamOptions): Promise<EventHubsEventStream> {
    const container = new ContainerClient(o.storageConnectionString, o.container);
    await container.createIfNotExists();
    const producer = new EventHubProducerClient(o.connectionString, o.hubName);
    const consumer = new EventHubConsumerClient(o.consumerGroup, o.connectionString, o.hubName);
    try {
      const ids = await producer.getPartitionIds();
      return new EventHubsEventStream(producer, consumer, new BlobCheckpointStore(container), ids, o.hubName);
    } catch (err) {
      await Promise.all([producer.close(), consumer.close()]);
      throw err;
    }
  }

  async append(event: DeliveryTracking): Promise<undefined> {
    await this.producer.sendBatch([{
      body: event, messageId: event.eventId, contentType: 'application/json',
      ...(event.correlationId ? { correlationId: event.correlationId } : {}),
      properties: { type: event.type, ...(event.correlationId ? { correlationId: event.correlationId } : {}) },
    }], { partitionKey: event.deliveryId });
    return undefined;
  }

  async read(consumer: string, max: number): Promise<StoredEvent[]> {
    const committed = await this.positions(consumer);
    const out: StoredEvent[] = [];
    for (const [i, pid] of this.partitionIds.entries()) {
      if (out.length >= max) break;
      const last = (await this.consumer.getPartitionProperties(pid)).lastEnqueuedSequenceNumber;
      const from = committed[i]!;
      if (last <= from) continue;
      for (const e of await this.receive(pid, from, Math.min(max - out.length, last - from))) {
        const offset = e.sequenceNumber * this.partitionIds.length + i;
        this.serviceOffsets.set(offset, e.offset);
        const v = validateMessage('DeliveryTracking', e.body);
        if (v.ok) out.push({ offset, event: v.value });
        else this.invalid += 1;
      }
    }
    return out;
  }

  async commit(consumer: string, offset: number): Promise<void> {
    const committed = await this.positions(consumer);
    const n = this.partitionIds.length;
    const index = offset % n;
    const seq = Math.floor(offset / n);
    if (!(seq > committed[index]!)) return; // an older commit never moves a consumer back
    await this.store.updateCheckpoint({
      fullyQualifiedNamespace: this.consumer.fullyQualifiedNamespace, eventHubName: this.hubName, consumerGroup: consumer,
      partitionId: this.partitionIds[index]!, sequenceNumber: seq, offset: this.serviceOffsets.get(offset) ?? '',
    });
    committed[index] = seq;
  }

  async close(): Promise<void> {
    await Promise.all([this.producer.close(), this.consumer.close()]);
  }

  private async positions(consumer: string): Promise<number[]> {
    let p = this.committed.get(consumer);
    if (!p) {
      const cps = await this.store.listCheckpoints(this.consumer.fullyQualifiedNamespace, this.hubName, consumer);
      p = this.partitionIds.map((id) => cps.find((c) => c.partitionId === id)?.sequenceNumber ?? -1);
      this.committed.set(consumer, p);
    }
    return p;
  }

  /** The `want` events after sequence number `after` of one partition (they exist: the caller checked). */
  private async receive(partitionId: string, after: number, want: number): Promise<ReceivedEventData[]> {
    const got: ReceivedEventData[] = [];
    let fail: (err: Error) => void = () => undefined;
    let done: () => void = () => undefined;
    const finished = new Promise<void>((resolve, reject) => {
      done = resolve;
      fail = reject;
    });
    const sub = this.consumer.subscribe(partitionId, {
      processEvents: (events) => {
        got.push(...events.slice(0, want - got.length));
        if (got.length >= want) done();
        return Promise.resolve();
      },
      processError: (err) => {
        fail(err);
        return Promise.resolve();
      },
    }, { startPosition: after < 0 ? earliestEventPosition : { sequenceNumber: after }, maxBatchSize: want, maxWaitTimeInSeconds: 1 });
    try {
      await finished;
    } finally {
      await sub.close();
    }
    return got;
  }
}
