import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventHubsEventStream } from '../src/index.js';
import { startEventHubsEmulator } from '../../test-support/eventhubs/emulator.js';
import { startAzurite, type RunningAzurite } from '../../test-support/azurite.js';
import { eventStreamContract, trackingEvent } from './event-stream-contract.js';

// The event-stream port on Event Hubs (real @azure/event-hubs producer and consumer against the
// local AMQP endpoint, consumer positions in real Azurite), through the same contract suite as
// the embedded durable log.
let azurite: RunningAzurite;
let n = 0;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
});

eventStreamContract('event hubs', async () => {
  const eh = await startEventHubsEmulator({ hub: 'delivery-tracking', partitions: 4 });
  const container = `stream-${++n}`;
  return {
    open: () => EventHubsEventStream.open({
      connectionString: eh.connectionString, hubName: eh.hub, consumerGroup: '$default', storageConnectionString: azurite.connectionString, container,
    }),
    durable: true,
    dispose: () => eh.close(),
  };
});

describe('event hubs event stream on the wire', () => {
  it('sends each event with partition key = deliveryId and the correlationId as AMQP correlation-id', async () => {
    const eh = await startEventHubsEmulator({ hub: 'delivery-tracking', partitions: 4 });
    const s = await EventHubsEventStream.open({
      connectionString: eh.connectionString, hubName: eh.hub, consumerGroup: '$default', storageConnectionString: azurite.connectionString, container: `stream-${++n}`,
    });
    try {
      for (let i = 0; i < 12; i++) await s.append(trackingEvent(i, `dlv-${i % 4}`));
      const stored = [0, 1, 2, 3].flatMap((p) => eh.events(p).map((e) => ({ p, key: e.partitionKey, corr: e.message.correlation_id, props: e.message.application_properties })));
      expect(stored).toHaveLength(12);
      for (const d of ['dlv-0', 'dlv-1', 'dlv-2', 'dlv-3']) {
        const mine = stored.filter((x) => x.key === d);
        expect(mine).toHaveLength(3);
        expect(new Set(mine.map((x) => x.p)).size).toBe(1);
        expect(mine.every((x) => x.corr === `corr-${d}` && x.props?.['correlationId'] === `corr-${d}`)).toBe(true);
      }
    } finally {
      await s.close();
      await eh.close();
    }
  });
});
