import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { FileEventLog, FleetHub, MemoryDeviceRegistry, hubConfig, type EventStream, type Outbound, type StoredEvent } from '../src/index.js';
import { TrackingPublisher } from '../src/tracking-publisher.js';
import { newHubCounters } from '../src/hub-counters.js';
import { decodeMessage, encodeMessage, subscriptions, topics, type DeliveryAssignment, type DeliveryTracking } from '@aerie/contracts';
import type { TrackingDraft } from '../src/domain/tracker.js';
import { until } from '../../test-support/until.js';
import { droneStatus } from '../../test-support/fixtures.js';

// Issue 5, event stream: an event an MQTT consumer saw must be in the log. The hub published on
// MQTT first and appended without waiting (a crash in between lost it from the log), and a
// failed append was only logged.

/** The real embedded log, which can be made to fail (a full or broken disk), recording what became durable. */
class FlakyLog implements EventStream {
  failing = false;
  calls = 0;
  readonly durable = new Set<string>();
  constructor(readonly inner: FileEventLog) {}
  async append(event: DeliveryTracking): Promise<number | undefined> {
    this.calls += 1;
    if (this.failing) throw new Error('ENOSPC: no space left on device, write');
    const offset = await this.inner.append(event);
    this.durable.add(event.eventId);
    return offset;
  }
  read(consumer: string, max: number): Promise<StoredEvent[]> {
    return this.inner.read(consumer, max);
  }
  commit(consumer: string, offset: number): Promise<void> {
    return this.inner.commit(consumer, offset);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

const dirs: string[] = [];
const clients: MqttClient[] = [];
const hubs: FleetHub[] = [];
const logs: FlakyLog[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.endAsync(true);
  for (const h of hubs.splice(0)) await h.close();
  for (const l of logs.splice(0)) await l.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function flakyLog(): Promise<FlakyLog> {
  const dir = await mkdtemp(join(tmpdir(), 'aerie-hub-evlog-'));
  dirs.push(dir);
  const log = new FlakyLog(await FileEventLog.open(dir));
  logs.push(log);
  return log;
}

const draft = (n: number): TrackingDraft => ({
  type: 'EtaUpdated', stage: 'HeadedToPickup', deliveryId: 'dlv-1', droneId: 'drone-001', ts: n, location: null, eta: n + 60_000, correlationId: 'corr-1',
});

describe('tracking publisher: the event log first, then MQTT', () => {
  it('publishes each event only once it is durable in the log, in order', async () => {
    const log = await flakyLog();
    const published: { id: string; durable: boolean }[] = [];
    const out: Outbound = {
      publish: (_topic, payload) => {
        const d = decodeMessage('DeliveryTracking', Buffer.from(payload));
        if (d.ok) published.push({ id: d.value.eventId, durable: log.durable.has(d.value.eventId) });
      },
    };
    const pub = new TrackingPublisher(out, log, newHubCounters(), () => undefined);
    for (let i = 1; i <= 5; i++) pub.publish(draft(i));
    await pub.drain();
    expect(published).toHaveLength(5);
    expect(published.every((p) => p.durable)).toBe(true);
    expect((await log.read('probe', 10)).map((e) => e.event.eventId)).toEqual(published.map((p) => p.id));
  });

  it('a failing log: every try counted, the event still goes out, held and appended in order once the log is back', async () => {
    const log = await flakyLog();
    const counters = newHubCounters();
    const lines: string[] = [];
    const seen: DeliveryTracking[] = [];
    const out: Outbound = {
      publish: (_topic, payload) => {
        const d = decodeMessage('DeliveryTracking', Buffer.from(payload));
        if (d.ok) seen.push(d.value);
      },
    };
    const pub = new TrackingPublisher(out, log, counters, (l) => lines.push(l), null, { appendAttempts: 2, retryBaseMs: 5 });
    log.failing = true;
    pub.publish(draft(1));
    await pub.drain();
    // Policy: after the retries the event goes out anyway (live consumers do not stall) and waits for the log.
    expect(seen).toHaveLength(1);
    expect(counters.eventLog).toMatchObject({ appended: 0, failed: 2, held: 1, dropped: 0 });
    expect(pub.heldCount).toBe(1);
    expect(lines.filter((l) => l.includes('event log append failed'))).toHaveLength(2);

    log.failing = false;
    pub.publish(draft(2));
    await pub.drain();
    expect(seen).toHaveLength(2);
    // The held one is appended first: the log's order is the order consumers saw.
    expect((await log.read('probe', 10)).map((e) => e.event.eventId)).toEqual(seen.map((e) => e.eventId));
    expect(counters.eventLog).toMatchObject({ appended: 2, failed: 2, held: 1, recovered: 1, dropped: 0 });
    expect(pub.heldCount).toBe(0);
    await pub.close();
  });

  it('drops past maxHeld only with a count and a log line', async () => {
    const log = await flakyLog();
    const counters = newHubCounters();
    const lines: string[] = [];
    const pub = new TrackingPublisher({ publish: () => undefined }, log, counters, (l) => lines.push(l), null, { appendAttempts: 1, retryBaseMs: 1, maxHeld: 2 });
    log.failing = true;
    for (let i = 1; i <= 3; i++) pub.publish(draft(i));
    await pub.drain();
    expect(counters.eventLog).toMatchObject({ held: 3, dropped: 1 });
    expect(pub.heldCount).toBe(2);
    expect(lines.some((l) => /2 events held, dropped the oldest/.test(l))).toBe(true);
    await pub.close();
  });
});

describe('hub with a failing event log, over real MQTT', () => {
  it('counts the failure in /metrics, still publishes to consumers, and appends the event once the log is back', async () => {
    const log = await flakyLog();
    log.failing = true;
    const registry = new MemoryDeviceRegistry();
    const secrets: Record<string, string> = {};
    for (const [id, role] of [['drone-001', 'drone'], ['svc-core', 'service']] as const) secrets[id] = (await registry.add(id, role)).secret;
    const hub = await FleetHub.start(hubConfig({ mqttPort: 0, metricsPort: 0 }), { registry, log: () => undefined, eventStream: log });
    hubs.push(hub);
    const connect = async (id: string) => {
      const c = await mqtt.connectAsync(hub.mqttUrl, { clientId: id, username: id, password: secrets[id], protocolVersion: 4, reconnectPeriod: 0 });
      clients.push(c);
      return c;
    };
    const core = await connect('svc-core');
    const seen: DeliveryTracking[] = [];
    core.on('message', (_t, p) => {
      const d = decodeMessage('DeliveryTracking', p);
      if (d.ok) seen.push(d.value);
    });
    await core.subscribeAsync(subscriptions.allTracking, { qos: 1 });
    const drone = await connect('drone-001');
    const a: DeliveryAssignment = {
      v: 1, deliveryId: 'dlv-f', droneId: 'drone-001', ts: 1, correlationId: 'corr-f', action: 'fly',
      pickup: { lat: 47.399, lon: 8.547 }, dropoff: { lat: 47.401, lon: 8.55 }, cruiseAltM: 30, groundDelayS: 5,
    };
    await core.publishAsync(topics.assignment('dlv-f'), encodeMessage(a), { qos: 1, retain: true });
    await until(() => hub.counters.commandsPublished > 0, 'the mission sent');
    await drone.publishAsync(topics.status('drone-001'), encodeMessage(droneStatus({ seq: 1, armed: true, landedState: 'TAKEOFF' })), { qos: 1 });
    const headed = await until(() => seen.find((e) => e.type === 'DeliveryHeadedToPickup'), 'HeadedToPickup on MQTT despite the failing log');
    expect(hub.counters.eventLog.failed).toBeGreaterThanOrEqual(1);
    expect(log.durable.has(headed.eventId)).toBe(false);
    const scrape = async () => (await fetch(`${hub.metricsUrl}/metrics`)).text();
    const m = await scrape();
    expect(m).toMatch(/aerie_hub_event_log_total\{result="failed"\} [1-9]/);
    expect(m).toMatch(/aerie_hub_event_log_held [1-9]/);

    log.failing = false;
    await until(() => log.durable.has(headed.eventId), 'the held event appended once the log answers again');
    expect((await log.read('probe', 10)).map((e) => e.event.eventId)).toContain(headed.eventId);
    await until(() => hub.counters.eventLog.held === hub.counters.eventLog.recovered, 'nothing held any more');
    expect(await scrape()).toMatch(/aerie_hub_event_log_held 0/);
  });
});
