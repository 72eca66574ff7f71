import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { connectAsync } from 'mqtt';
import type { MqttClient } from 'mqtt';
import { encodeMessage, topics } from '@aerie/contracts';
import { startMqttIngest } from '../src/adapters/mqtt-ingest.js';
import type { MqttIngest, MqttIngestOptions } from '../src/adapters/mqtt-ingest.js';
import { createMemoryStore } from '../src/adapters/memory-store.js';
import { openSqliteStore } from '../src/adapters/sqlite-store.js';
import { createMemoryLogger } from '../src/adapters/stderr-logger.js';
import type { TelemetryStore } from '../src/ports.js';
import { startBroker } from './helpers/broker.js';
import type { TestBroker } from './helpers/broker.js';
import { makeFlight, makeStatus } from './helpers/status.js';

const USER = 'svc-telemetry';
const PASSWORD = 'telemetry-secret';

describe('MQTT ingest against an aedes broker', () => {
  let broker: TestBroker;
  let store: TelemetryStore;
  let logger: ReturnType<typeof createMemoryLogger>;
  const closers: (() => Promise<void> | void)[] = [];

  beforeEach(async () => {
    broker = await startBroker();
    broker.broker.authenticate = (_client, username, password, done) => done(null, username === USER && password?.toString() === PASSWORD);
    store = openSqliteStore(':memory:');
    logger = createMemoryLogger();
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await broker.close();
    store.close();
  });

  const ingest = (overrides: Partial<MqttIngestOptions> = {}): MqttIngest => {
    const i = startMqttIngest({ url: broker.url, username: USER, password: PASSWORD, clientId: 'telemetry-test', store, logger, reconnectPeriodMs: 50, ...overrides });
    closers.push(() => i.close());
    return i;
  };
  const publisher = async (): Promise<MqttClient> => {
    const c = await connectAsync(broker.url, { protocolVersion: 4, clientId: `pub-${Math.random().toString(36).slice(2)}`, username: USER, password: PASSWORD, reconnectPeriod: 0 });
    closers.push(() => c.endAsync());
    return c;
  };
  const publish = (c: MqttClient, topic: string, payload: string) => c.publishAsync(topic, payload, { qos: 1 });

  it('stores valid statuses once and counts every reject by code', async () => {
    const tel = ingest();
    await tel.whenSubscribed();
    const pub = await publisher();
    const flight = makeFlight(3);
    for (const s of flight) await publish(pub, topics.status('drone-1'), encodeMessage(s));
    await publish(pub, topics.status('drone-1'), encodeMessage(flight[0]));
    await publish(pub, topics.status('drone-1'), encodeMessage(makeStatus({ seq: 3, ts: flight[2]!.ts + 200, position: null })));
    await publish(pub, topics.status('drone-1'), '{"v":1,"droneId":');
    await publish(pub, topics.status('drone-1'), encodeMessage({ ...makeStatus({ seq: 4 }), battery: { pct: 140, voltage: 15, current: null } }));
    await publish(pub, topics.status('drone-1'), encodeMessage(makeStatus({ droneId: 'drone-2', seq: 5 })));

    // The 200 ms flush timer writes the batch; nothing here calls flush.
    // The publisher's PUBACK comes from the broker, not from us: wait for the last message too.
    await vi.waitFor(() => expect(tel.stats().stored + tel.stats().duplicates).toBe(5), { timeout: 3_000, interval: 20 });
    await vi.waitFor(() => expect(tel.stats().received).toBe(8), { timeout: 3_000, interval: 20 });
    expect(tel.stats()).toEqual({
      received: 8,
      stored: 4,
      duplicates: 1,
      rejected: { CONTRACT_ERR_NOT_JSON: 1, CONTRACT_ERR_SCHEMA: 1, TEL_ERR_TOPIC_MISMATCH: 1 },
    });
    expect(store.track('drone-1', 0, Number.MAX_SAFE_INTEGER, 100).map((p) => p.ts)).toEqual(flight.map((s) => s.ts));
    expect(store.track('drone-2', 0, Number.MAX_SAFE_INTEGER, 100)).toEqual([]);

    const rejects = logger.lines.filter((l) => l.includes('rejected'));
    expect(rejects).toEqual([
      expect.stringMatching(/drone=drone-1 code=CONTRACT_ERR_NOT_JSON/),
      expect.stringMatching(/drone=drone-1 code=CONTRACT_ERR_SCHEMA/),
      expect.stringMatching(/drone=drone-1 code=TEL_ERR_TOPIC_MISMATCH/),
    ]);
  });

  it('writes the buffered batch on close', async () => {
    const tel = ingest({ flushIntervalMs: 60_000 });
    await tel.whenSubscribed();
    const pub = await publisher();
    for (const s of makeFlight(4)) await publish(pub, topics.status('drone-1'), encodeMessage(s));
    await vi.waitFor(() => expect(tel.stats().received).toBe(4), { timeout: 3_000, interval: 20 });
    expect(tel.stats().stored).toBe(0);
    await tel.close();
    expect(tel.stats()).toMatchObject({ received: 4, stored: 4 });
    expect(store.track('drone-1', 0, Number.MAX_SAFE_INTEGER, 100)).toHaveLength(4);
  });

  it('writes a batch as soon as it holds maxBatchPoints', async () => {
    const tel = ingest({ flushIntervalMs: 60_000, maxBatchPoints: 5 });
    await tel.whenSubscribed();
    const pub = await publisher();
    for (const s of makeFlight(6)) await publish(pub, topics.status('drone-1'), encodeMessage(s));
    await vi.waitFor(() => expect(tel.stats().received).toBe(6), { timeout: 3_000, interval: 20 });
    expect(tel.stats().stored).toBe(5);
  });

  it('receives what was published while it was down (persistent session, QoS 1)', async () => {
    const first = ingest();
    await first.whenSubscribed();
    await first.close();

    const pub = await publisher();
    for (const s of makeFlight(3)) await publish(pub, topics.status('drone-1'), encodeMessage(s));

    const second = ingest();
    await vi.waitFor(() => expect(second.stats().stored).toBe(3), { timeout: 3_000, interval: 20 });
  });

  it('subscribes again after a broker restart that lost its session', async () => {
    const tel = ingest();
    await tel.whenSubscribed();
    const { port } = broker;
    await broker.close();
    broker = await startBroker({ port });
    broker.broker.authenticate = (_client, _u, _p, done) => done(null, true);

    const pub = await publisher();
    await vi.waitFor(
      async () => {
        await publish(pub, topics.status('drone-1'), encodeMessage(makeStatus()));
        expect(tel.stats().received).toBeGreaterThan(0);
      },
      { timeout: 5_000, interval: 100 },
    );
    await vi.waitFor(() => expect(store.latest('drone-1')).not.toBeNull(), { timeout: 3_000, interval: 20 });
    expect(logger.lines.filter((l) => l.includes('connected'))).toHaveLength(2);
  });

  it('reports refused credentials as TEL_ERR_MQTT_REFUSED and stops retrying', async () => {
    const tel = ingest({ password: 'wrong' });
    await expect(tel.whenSubscribed()).rejects.toMatchObject({ code: 'TEL_ERR_MQTT_REFUSED' });
    expect(logger.lines).toEqual([expect.stringMatching(/^error .*code=TEL_ERR_MQTT_REFUSED/)]);
  });

  it('reports a refused subscription as TEL_ERR_MQTT_REFUSED', async () => {
    broker.broker.authorizeSubscribe = (_client, _sub, done) => done(null, null);
    const tel = ingest();
    await expect(tel.whenSubscribed()).rejects.toMatchObject({ code: 'TEL_ERR_MQTT_REFUSED' });
  });

  it('logs one line while the broker is unreachable, and closes without it', async () => {
    const { url } = broker;
    await broker.close();
    const tel = ingest({ url, store: createMemoryStore() });
    await new Promise((r) => setTimeout(r, 300));
    expect(logger.lines.filter((l) => l.includes('unreachable'))).toHaveLength(1);
    await tel.close();
    await expect(tel.whenSubscribed()).rejects.toMatchObject({ code: 'TEL_ERR_INGEST_CLOSED' });
  });
});
