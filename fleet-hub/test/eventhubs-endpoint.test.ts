import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventHubConsumerClient, EventHubProducerClient, earliestEventPosition, type ReceivedEventData } from '@azure/event-hubs';
import { BlobCheckpointStore } from '@azure/eventhubs-checkpointstore-blob';
import { ContainerClient } from '@azure/storage-blob';
import { startEventHubsEmulator, type EventHubsEmulator } from '../../test-support/eventhubs/emulator.js';
import { startAzurite, type RunningAzurite } from '../../test-support/azurite.js';
import { until } from '../../test-support/until.js';

// The local Event Hubs endpoint must speak the service's wire protocol to the real SDK: this
// suite pins what fleet-hub's cloud mode relies on, with the real client and real Azurite.
let eh: EventHubsEmulator;
let azurite: RunningAzurite;

beforeAll(async () => {
  [eh, azurite] = await Promise.all([startEventHubsEmulator({ hub: 'iothub-ehub', partitions: 4, consumerGroups: ['hubs'] }), startAzurite()]);
});
afterAll(async () => {
  await eh?.close();
  await azurite?.stop();
});

describe('local Event Hubs endpoint with the real @azure/event-hubs client', () => {
  it('answers the $management reads of the hub and of a partition', async () => {
    const producer = new EventHubProducerClient(eh.connectionString, eh.hub);
    try {
      const props = await producer.getEventHubProperties();
      expect(props.name).toBe('iothub-ehub');
      expect(props.partitionIds).toEqual(['0', '1', '2', '3']);
      const before = await producer.getPartitionProperties('2');
      expect(before.isEmpty).toBe(true);
      const batch = await producer.createBatch({ partitionId: '2' });
      expect(batch.tryAdd({ body: { n: 1 } })).toBe(true);
      expect(batch.tryAdd({ body: { n: 2 } })).toBe(true);
      await producer.sendBatch(batch);
      const after = await producer.getPartitionProperties('2');
      expect(after.isEmpty).toBe(false);
      expect(after.lastEnqueuedSequenceNumber).toBe(1);
      expect(eh.events(2)).toHaveLength(2);
    } finally {
      await producer.close();
    }
  });

  it('keeps one partition key on one partition, in order, and stamps the broker annotations', async () => {
    const producer = new EventHubProducerClient(eh.connectionString, eh.hub);
    const consumer = new EventHubConsumerClient('hubs', eh.connectionString, eh.hub);
    try {
      for (let i = 0; i < 3; i++) {
        const batch = await producer.createBatch({ partitionKey: 'dlv-42' });
        for (let j = 0; j < 4; j++) batch.tryAdd({ body: { i, j }, properties: { type: 'status' } });
        await producer.sendBatch(batch);
      }
      const got: ReceivedEventData[] = [];
      const sub = consumer.subscribe({
        processEvents: (events) => {
          got.push(...events.filter((e) => e.partitionKey === 'dlv-42'));
          return Promise.resolve();
        },
        processError: () => Promise.resolve(),
      }, { startPosition: earliestEventPosition, maxWaitTimeInSeconds: 1 });
      await until(() => got.length >= 12 || undefined, '12 keyed events', 15_000);
      await sub.close();
      expect(got.map((e) => e.body as { i: number; j: number }).map((b) => b.i * 4 + b.j)).toEqual([...Array(12).keys()]);
      expect(new Set(got.map((e) => e.sequenceNumber)).size).toBe(12);
      expect(got.every((e) => e.enqueuedTimeUtc instanceof Date && typeof e.offset === 'string' && e.properties?.['type'] === 'status')).toBe(true);
    } finally {
      await consumer.close();
      await producer.close();
    }
  });

  it('gives a partition to the receiver with the highest owner level (epoch) and detaches the others', async () => {
    const clients = [0, 1, 2].map(() => new EventHubConsumerClient('hubs', eh.connectionString, eh.hub));
    const errors: string[][] = [[], [], []];
    const subs = [2, 5, 1].map((ownerLevel, i) => () => clients[i]!.subscribe('3', {
      processEvents: () => Promise.resolve(),
      processError: (err) => {
        errors[i]!.push((err as { code?: string }).code ?? err.name);
        return Promise.resolve();
      },
    }, { startPosition: earliestEventPosition, ownerLevel, maxWaitTimeInSeconds: 1 }));
    try {
      const first = subs[0]!();
      await until(() => eh.receivers().includes('hubs/3') || undefined, 'the first receiver', 10_000);
      const second = subs[1]!(); // higher epoch: takes the partition
      await until(() => errors[0]!.includes('ReceiverDisconnectedError') || undefined, 'the first receiver to be detached', 10_000);
      const third = subs[2]!(); // lower epoch: refused
      await until(() => errors[2]!.includes('ReceiverDisconnectedError') || undefined, 'the lower epoch to be refused', 10_000);
      expect(errors[1]).toEqual([]);
      expect(eh.receivers().filter((k) => k === 'hubs/3')).toHaveLength(1);
      await Promise.all([first.close(), second.close(), third.close()]);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });

  it('refuses a token signed with the wrong key', async () => {
    const wrong = eh.connectionString.replace(/SharedAccessKey=[^;]+/, 'SharedAccessKey=bm90LXRoZS1rZXk=');
    const producer = new EventHubProducerClient(wrong, eh.hub, { retryOptions: { maxRetries: 0, timeoutInMs: 5_000 } });
    try {
      await expect(producer.getEventHubProperties()).rejects.toThrow(/signature|Unauthorized|401/i);
    } finally {
      await producer.close();
    }
  });

  it('resumes a consumer group from blob checkpoints in Azurite', async () => {
    const container = new ContainerClient(azurite.connectionString, 'checkpoints-probe');
    await container.createIfNotExists();
    const store = new BlobCheckpointStore(container);
    const producer = new EventHubProducerClient(eh.connectionString, eh.hub);
    const send = async (from: number, n: number) => {
      const batch = await producer.createBatch({ partitionId: '0' });
      for (let i = from; i < from + n; i++) batch.tryAdd({ body: { i } });
      await producer.sendBatch(batch);
    };
    const run = async (want: number) => {
      const consumer = new EventHubConsumerClient('$default', eh.connectionString, eh.hub, store);
      const seen: number[] = [];
      const sub = consumer.subscribe('0', {
        processEvents: async (events, ctx) => {
          seen.push(...events.map((e) => (e.body as { i: number }).i));
          if (events.length > 0) await ctx.updateCheckpoint(events.at(-1)!);
        },
        processError: () => Promise.resolve(),
      }, { startPosition: earliestEventPosition, maxWaitTimeInSeconds: 1 });
      await until(() => seen.length >= want || undefined, `${want} events`, 15_000);
      await sub.close();
      await consumer.close();
      return seen;
    };
    try {
      const before = eh.events(0).length;
      await send(0, 5);
      expect((await run(before + 5)).slice(before)).toEqual([0, 1, 2, 3, 4]);
      await send(5, 3);
      expect(await run(3)).toEqual([5, 6, 7]);
      const checkpoints = await store.listCheckpoints('127.0.0.1', eh.hub, '$default');
      expect(checkpoints.find((c) => c.partitionId === '0')?.sequenceNumber).toBe(before + 7);
    } finally {
      await producer.close();
    }
  });
});
