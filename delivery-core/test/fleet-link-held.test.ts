import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { encodeMessage, topics, type DeliveryTracking, type DispatchReply } from '@aerie/contracts';
import { MqttFleetLink } from '../src/index.js';
import { startMosquitto, type RunningMosquitto } from '../../test-support/mosquitto.js';
import { until } from '../../test-support/until.js';

// Regression (bench:faults, issue 8): after a kill -9 of the core, the QoS 1 tracking events queued
// in its persistent session arrive right after CONNACK — before the service registers its
// listeners — and mqtt.js acknowledges them at once. They were dropped: deliveries whose final
// stage came while the core was down never became final. Debian's Mosquitto, real sockets.
describe('MqttFleetLink, what the persistent session hands over at connect', () => {
  let broker: RunningMosquitto;
  beforeAll(async () => {
    broker = await startMosquitto([{ username: 'core', password: 'core-pw', role: 'service' }, { username: 'hub', password: 'hub-pw', role: 'service' }]);
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('keeps tracking events and dispatch replies queued while the core was away for the listeners registered after connect', async () => {
    const opts = { url: broker.url, username: 'core', password: 'core-pw', clientId: 'core-held', onReject: () => undefined };
    const first = await MqttFleetLink.connect(opts);
    await first.subscribed;
    // Gone without a clean session end, as a kill -9 leaves it: the broker queues for it.
    await first.close(true);
    const hub = await mqtt.connectAsync(broker.url, { username: 'hub', password: 'hub-pw', clientId: 'hub-held' });
    const done: DeliveryTracking = {
      v: 1, eventId: 'd-held:done', type: 'DeliveryCompleted', deliveryId: 'd-held', droneId: 'drone-001', stage: 'Completed', ts: 1_700_000_000_000,
      location: { lat: 47.401, lon: 8.55, altRel: 0 }, eta: null,
    };
    const reply: DispatchReply = { v: 1, deliveryId: 'd-held', droneId: 'drone-001', ts: 1_700_000_000_000, commandId: 'cmd-held', outcome: 'accepted' };
    await hub.publishAsync(topics.tracking('d-held'), encodeMessage(done), { qos: 1 });
    await hub.publishAsync(topics.dispatchReply('d-held'), encodeMessage(reply), { qos: 1 });
    await hub.endAsync();

    const second = await MqttFleetLink.connect(opts);
    // The service registers its listeners only after the other connections of its start.
    await new Promise((r) => setTimeout(r, 300));
    const tracked: DeliveryTracking[] = [];
    const replies: DispatchReply[] = [];
    second.onTracking((e) => void tracked.push(e));
    second.onDispatchReply((r) => replies.push(r));
    await second.subscribed;
    await until(() => tracked.length === 1 && replies.length === 1, 'the held event and reply');
    expect(tracked[0]).toMatchObject({ eventId: 'd-held:done', stage: 'Completed' });
    expect(replies[0]).toMatchObject({ deliveryId: 'd-held', outcome: 'accepted' });
    await second.close();
  });

  const event = (id: string): DeliveryTracking => ({
    v: 1, eventId: `${id}:done`, type: 'DeliveryCompleted', deliveryId: id, droneId: 'drone-001', stage: 'Completed', ts: 1_700_000_000_000,
    location: { lat: 47.401, lon: 8.55, altRel: 0 }, eta: null,
  });
  async function publishAsHub(e: DeliveryTracking): Promise<void> {
    const hub = await mqtt.connectAsync(broker.url, { username: 'hub', password: 'hub-pw', clientId: `hub-${e.deliveryId}` });
    await hub.publishAsync(topics.tracking(e.deliveryId), encodeMessage(e), { qos: 1 });
    await hub.endAsync();
  }

  it('acknowledges a tracking event only once the write settled: one taken but not written when the core dies comes again', async () => {
    const opts = { url: broker.url, username: 'core', password: 'core-pw', clientId: 'core-unacked', onReject: () => undefined };
    const first = await MqttFleetLink.connect(opts);
    const taken: DeliveryTracking[] = [];
    // The commit never finishes: the core dies (kill -9 leaves the socket as close(true) does) before it.
    first.onTracking((e) => {
      taken.push(e);
      return new Promise<void>(() => undefined);
    });
    await first.subscribed;
    await publishAsHub(event('d-unacked'));
    await until(() => taken.length === 1, 'the event taken by the first core');
    await first.close(true);

    const second = await MqttFleetLink.connect(opts);
    const again: DeliveryTracking[] = [];
    second.onTracking((e) => void again.push(e));
    await second.subscribed;
    await until(() => again.length === 1, 'the unacknowledged event offered to the next session');
    expect(again[0]).toMatchObject({ eventId: 'd-unacked:done', stage: 'Completed' });
    await second.close();
  });

  it('offers a tracking event again while its write fails, and acknowledges it once written', async () => {
    const rejects: string[] = [];
    const opts = { url: broker.url, username: 'core', password: 'core-pw', clientId: 'core-retry', onReject: (code: string) => void rejects.push(code) };
    const link = await MqttFleetLink.connect(opts);
    let calls = 0;
    link.onTracking(() => (++calls < 3 ? Promise.reject(new Error('database away')) : Promise.resolve()));
    await link.subscribed;
    await publishAsHub(event('d-retry'));
    await until(() => calls === 3, 'two failed writes and a third that succeeds');
    expect(rejects).toEqual(['DLV_ERR_INTERNAL', 'DLV_ERR_INTERNAL']);
    await link.close();
    // Acknowledged after the third: the next session gets nothing more.
    const next = await MqttFleetLink.connect(opts);
    const more: DeliveryTracking[] = [];
    next.onTracking((e) => void more.push(e));
    await next.subscribed;
    await publishAsHub(event('d-after'));
    await until(() => more.length === 1, 'the next event');
    expect(more.map((e) => e.deliveryId)).toEqual(['d-after']);
    await next.close();
  });
});
