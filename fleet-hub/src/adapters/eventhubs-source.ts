import { EventHubConsumerClient, earliestEventPosition, type PartitionContext, type ReceivedEventData, type Subscription } from '@azure/event-hubs';
import { BlobCheckpointStore } from '@azure/eventhubs-checkpointstore-blob';
import { ContainerClient } from '@azure/storage-blob';
import type { EventHubsConfig } from '../config.js';
import type { HubErrorCode } from '../errors.js';
import type { HubLogger } from '../hub-counters.js';

/** What the source needs from the hub: the same intake MQTT feeds, and the reject counter. */
export interface IngestSink {
  ingest(droneId: string, channel: string, payload: Buffer): void;
  /** True once everything handed to `ingest` has been through the pipeline (or shed and counted). */
  idle(): boolean;
  reject(code: HubErrorCode, detail: string, droneId: string | null): void;
}

// IoT Hub stamps the sending device on every message of its built-in endpoint
// (https://learn.microsoft.com/azure/iot-hub/iot-hub-devguide-messages-construct#system-properties-of-d2c-iot-hub-messages).
const DEVICE_ID = 'iothub-connection-device-id';

/** The agent's `type` application property → the fleet topic channel the pipeline knows. */
const CHANNELS: Record<string, string> = {
  status: 'status', event: 'events', events: 'events', result: 'cmd/result', 'cmd/result': 'cmd/result', online: 'online',
};

/**
 * Cloud mode: reads IoT Hub's built-in Event Hubs-compatible endpoint with EventHubConsumerClient
 * (one consumer group, every partition, ownership and checkpoints in blob storage) and feeds the
 * same intake as MQTT. A batch is checkpointed once the pipeline has taken all of it, so a
 * restart resumes after the last checkpointed batch: at least once, and the pipeline's
 * (droneId, bootId, seq) dedupe turns that into exactly once per hub. Hubs sharing the consumer
 * group and the container share the partitions through the SDK's load balancing.
 */
export class EventHubsSource {
  private constructor(
    private readonly client: EventHubConsumerClient,
    private readonly subscription: Subscription,
  ) {}

  static async start(cfg: Readonly<EventHubsConfig>, sink: IngestSink, log: HubLogger): Promise<EventHubsSource> {
    const container = new ContainerClient(cfg.storageConnectionString, cfg.container);
    await container.createIfNotExists();
    const store = new BlobCheckpointStore(container);
    const client = new EventHubConsumerClient(cfg.consumerGroup, cfg.connectionString, cfg.hubName, store, {
      loadBalancingOptions: { strategy: 'balanced', updateIntervalInMs: cfg.loadBalancingIntervalMs, partitionOwnershipExpirationIntervalInMs: cfg.ownershipExpiryMs },
    });
    const subscription = client.subscribe({
      processEvents: async (events, ctx) => {
        for (const e of events) take(e, sink);
        if (events.length === 0) return;
        await untilIdle(sink);
        await ctx.updateCheckpoint(events.at(-1)!);
      },
      processError: (err, ctx: PartitionContext) => {
        log(`event hubs source error partition=${ctx.partitionId}: ${err.message}`, { partitionId: ctx.partitionId });
        return Promise.resolve();
      },
    }, { startPosition: earliestEventPosition, maxBatchSize: cfg.maxBatchSize, maxWaitTimeInSeconds: cfg.maxWaitTimeS, skipParsingBodyAsJson: true });
    return new EventHubsSource(client, subscription);
  }

  /** The consumer is reading (readiness). */
  get running(): boolean {
    return this.subscription.isRunning;
  }

  /** Stops reading; what was taken but not checkpointed is read again by the next owner. */
  async close(): Promise<void> {
    await this.subscription.close();
    await this.client.close();
  }
}

function take(e: ReceivedEventData, sink: IngestSink): void {
  const device: unknown = e.systemProperties?.[DEVICE_ID];
  const type: unknown = e.properties?.['type'];
  const droneId = typeof device === 'string' && device ? device : null;
  if (!droneId) return sink.reject('HUB_ERR_UNKNOWN_TOPIC', `event hubs message without ${DEVICE_ID} (seq ${e.sequenceNumber})`, null);
  const channel = typeof type === 'string' ? CHANNELS[type] : undefined;
  if (!channel) return sink.reject('HUB_ERR_UNKNOWN_TOPIC', `event hubs message type ${JSON.stringify(type ?? null)}`, droneId);
  if (!Buffer.isBuffer(e.body)) return sink.reject('HUB_ERR_PAYLOAD', 'event hubs message body is not a data section', droneId);
  sink.ingest(droneId, channel, e.body);
}

/**
 * The pump drains in slices on setImmediate; checkpoint only after it has taken everything. With
 * MQTT traffic arriving too the queue may seldom be empty: the checkpoint then waits, which costs
 * re-reads after a crash, never a loss.
 */
async function untilIdle(sink: IngestSink): Promise<void> {
  while (!sink.idle()) await new Promise<void>((r) => setImmediate(r));
}
