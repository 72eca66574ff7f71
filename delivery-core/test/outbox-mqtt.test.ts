import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Deduplicator, OutboxRelay, RecentIds, type OutboxEvent } from '../src/domain/outbox.js';
import { begin } from '../src/domain/saga.js';
import { MqttOutboxPublisher, allNotifications, type NotificationMessage } from '../src/adapters/outbox-mqtt.js';
import { MemoryWorkflowStore } from '../src/workflow/memory-store.js';
import { startMosquitto, type RunningMosquitto } from '../../test-support/mosquitto.js';
import { until } from '../../test-support/until.js';
import { ManualClock } from './workflow-helpers.js';

let broker: RunningMosquitto;
beforeAll(async () => {
  broker = await startMosquitto([{ username: 'core', password: 'pw', role: 'service' }]);
});
afterAll(async () => {
  await broker?.stop();
});

describe('outbox over MQTT (Mosquitto)', () => {
  it('a crash between the broker\'s PUBACK and mark-sent publishes again; the subscriber handles each event id once', async () => {
    const store = new MemoryWorkflowStore();
    let saga = begin('delivery', 'd1', {}, 0);
    await store.createSaga(saga);
    for (const id of ['d1:scheduled', 'd1:failed']) {
      saga = { ...saga, version: saga.version + 1 };
      await store.saveSaga(saga, [{ id, type: id.endsWith('failed') ? 'DeliveryFailed' : 'DeliveryScheduled', aggregateId: 'd1', payload: { deliveryId: 'd1' } }]);
    }
    const sub = await mqtt.connectAsync(broker.url, { username: 'core', password: 'pw', clientId: 'customer-notifier' });
    const received: NotificationMessage[] = [];
    const handled: string[] = [];
    const consumer = new Deduplicator(new RecentIds(), (e) => { handled.push(e.id); });
    sub.on('message', (_t, payload) => {
      const m = JSON.parse(payload.toString()) as NotificationMessage;
      received.push(m);
      const e: OutboxEvent = { id: m.eventId, type: m.type, aggregateId: m.aggregateId, payload: m.payload, seq: 0, createdAt: m.ts };
      void consumer.deliver(e);
    });
    await sub.subscribeAsync(allNotifications, { qos: 1 });
    const clock = new ManualClock();
    const first = await MqttOutboxPublisher.connect({ url: broker.url, username: 'core', password: 'pw', clientId: 'core-outbox-1' });
    // The first process: both events reach the broker, then it dies before marking them sent.
    await expect(new OutboxRelay({ unsent: (n) => store.unsent(n), markSent: () => Promise.reject(new Error('process died')) }, first, clock).relayOnce()).rejects.toThrow('process died');
    await first.close();
    const second = await MqttOutboxPublisher.connect({ url: broker.url, username: 'core', password: 'pw', clientId: 'core-outbox-2' });
    try {
      expect(await new OutboxRelay(store, second, clock).drain()).toBe(2);
      await until(() => received.length === 4, 'four deliveries of two events');
      expect(received.map((m) => m.eventId)).toEqual(['d1:scheduled', 'd1:failed', 'd1:scheduled', 'd1:failed']);
      expect(received[1]).toMatchObject({ v: 1, type: 'DeliveryFailed', aggregateId: 'd1', payload: { deliveryId: 'd1' } });
      await until(() => consumer.stats.duplicates === 2, 'the duplicates dropped');
      expect(handled).toEqual(['d1:scheduled', 'd1:failed']);
      expect(await store.unsent(10)).toEqual([]);
    } finally {
      await second.close();
      await sub.endAsync();
    }
  });

  it('a publish while the broker is unreachable fails (transient) and the events stay unsent', async () => {
    const store = new MemoryWorkflowStore();
    const saga = begin('delivery', 'd2', {}, 0);
    await store.createSaga(saga);
    await store.saveSaga({ ...saga, version: 1 }, [{ id: 'd2:failed', type: 'DeliveryFailed', aggregateId: 'd2', payload: null }]);
    const pub = await MqttOutboxPublisher.connect({ url: broker.url, username: 'core', password: 'pw', clientId: 'core-outbox-3' });
    await pub.close();
    const errors: unknown[] = [];
    expect(await new OutboxRelay(store, pub, new ManualClock(), undefined, (e) => errors.push(e)).relayOnce()).toBe(0);
    expect(errors).toHaveLength(1);
    expect((await store.unsent(10)).map((e) => e.id)).toEqual(['d2:failed']);
  });
});
