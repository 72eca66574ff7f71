import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EventHubProducerClient, type EventDataBatch } from '@azure/event-hubs';
import { BlobCheckpointStore } from '@azure/eventhubs-checkpointstore-blob';
import { ContainerClient } from '@azure/storage-blob';
import type { DroneStatus } from '@aerie/contracts';
import { FleetHub, MemoryDeviceRegistry, hubConfig, type TelemetryWriter } from '../src/index.js';
import { startEventHubsEmulator, type EventHubsEmulator } from '../../test-support/eventhubs/emulator.js';
import { startAzurite, type RunningAzurite } from '../../test-support/azurite.js';
import { droneStatus } from '../../test-support/fixtures.js';
import { until } from '../../test-support/until.js';

// Cloud mode against IoT Hub's built-in endpoint: the real @azure/event-hubs consumer reads a
// local AMQP endpoint that speaks the service's protocol, checkpoints go to real Azurite.
let eh: EventHubsEmulator;
let azurite: RunningAzurite;
let producer: EventHubProducerClient;
const dataDir = mkdtempSync(join(tmpdir(), 'aerie-hub-cloud-'));
const hubs: FleetHub[] = [];
let containerSeq = 0;

beforeAll(async () => {
  [eh, azurite] = await Promise.all([startEventHubsEmulator({ hub: 'iothub-ehub', partitions: 4, consumerGroups: ['hubs'] }), startAzurite()]);
  producer = new EventHubProducerClient(eh.connectionString, eh.hub);
});
afterEach(async () => {
  for (const h of hubs.splice(0)) await h.close();
});
afterAll(async () => {
  await producer?.close();
  await eh?.close();
  await azurite?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

type AmqpAnnotatedMessage = Extract<Parameters<EventDataBatch['tryAdd']>[0], { bodyType?: unknown; body: unknown; messageAnnotations?: unknown }>;

/** What IoT Hub writes to its built-in endpoint for a device-to-cloud message: raw bytes, device id stamped, partitioned by device. */
function d2c(deviceId: string | null, type: string | null, body: Buffer): AmqpAnnotatedMessage {
  return {
    body, bodyType: 'data',
    // IoT Hub keeps a device on one partition; an annotated message carries its key itself
    // (the SDK adds x-opt-partition-key only to plain EventData).
    messageAnnotations: deviceId === null ? {} : { 'iothub-connection-device-id': deviceId, 'x-opt-partition-key': deviceId },
    applicationProperties: type === null ? {} : { type },
  };
}

async function publish(messages: { key: string; msg: AmqpAnnotatedMessage }[]): Promise<void> {
  const byKey = new Map<string, AmqpAnnotatedMessage[]>();
  for (const m of messages) byKey.set(m.key, [...(byKey.get(m.key) ?? []), m.msg]);
  for (const [key, msgs] of byKey) {
    // Small batches, so a partition holds several of them and checkpoints fall between.
    for (let i = 0; i < msgs.length; i += 7) {
      const batch = await producer.createBatch({ partitionKey: key });
      for (const m of msgs.slice(i, i + 7)) expect(batch.tryAdd(m)).toBe(true);
      await producer.sendBatch(batch);
    }
  }
}

const statuses = (drones: string[], from: number, n: number): { key: string; msg: AmqpAnnotatedMessage }[] =>
  drones.flatMap((d) => Array.from({ length: n }, (_, i) => ({ key: d, msg: d2c(d, 'status', Buffer.from(JSON.stringify(droneStatus({ droneId: d, seq: from + i })))) })));

class RecordingWriter implements TelemetryWriter {
  readonly seen: string[] = [];
  write(batch: readonly DroneStatus[]): void {
    for (const s of batch) this.seen.push(`${s.droneId}/${s.bootId}/${s.seq}`);
  }
}

async function startHub(container: string, writer: TelemetryWriter): Promise<FleetHub> {
  const hub = await FleetHub.start(hubConfig({
    mqttPort: 0, dataDir, source: 'eventhubs',
    eventHubs: {
      connectionString: eh.connectionString, hubName: eh.hub, consumerGroup: 'hubs', storageConnectionString: azurite.connectionString, container,
      maxBatchSize: 10, maxWaitTimeS: 1, loadBalancingIntervalMs: 300, ownershipExpiryMs: 3_000,
    },
  }), { registry: new MemoryDeviceRegistry(), writer, log: () => undefined });
  hubs.push(hub);
  return hub;
}

/** Polls an async probe (until() takes sync ones); a bound against hangs, not a timing assertion. */
async function untilAsync(probe: () => Promise<boolean>, what: string, realMs = 20_000): Promise<void> {
  const end = Date.now() + realMs;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`timed out after ${realMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Statuses with a sequence number past each partition's checkpoint: what the next owner reads again. */
async function uncheckpointed(container: string): Promise<Set<string>> {
  const store = new BlobCheckpointStore(new ContainerClient(azurite.connectionString, container));
  const cps = await store.listCheckpoints('127.0.0.1', eh.hub, 'hubs');
  const out = new Set<string>();
  for (let p = 0; p < 4; p++) {
    const cp = cps.find((c) => c.partitionId === String(p))?.sequenceNumber ?? -1;
    for (const e of eh.events(p).slice(cp + 1)) {
      const deviceId = e.message.message_annotations?.['iothub-connection-device-id'] as string | undefined;
      if (!deviceId || e.message.application_properties?.['type'] !== 'status') continue;
      // Every status message past the checkpoint, parseable or not (the refused ones are read again too).
      const body = (e.message.body as { content: Buffer }).content.toString();
      const s = /^\{"v"/.test(body) ? (JSON.parse(body) as DroneStatus) : null;
      out.add(s ? `${s.droneId}/${s.bootId}/${s.seq}` : `unparseable/${e.sequenceNumber}/${e.offset}`);
    }
  }
  return out;
}

describe('fleet-hub cloud mode: IoT Hub built-in endpoint through Event Hubs', () => {
  it('feeds the same pipeline as MQTT, refusing and counting what is not a drone message', async () => {
    const container = `cloud-${++containerSeq}`;
    const writer = new RecordingWriter();
    const hub = await startHub(container, writer);
    const bad = (d: string | null, t: string | null, body: string) => ({ key: 'bad', msg: d2c(d, t, Buffer.from(body)) });
    await publish([
      ...statuses(['drone-c1', 'drone-c2'], 0, 5),
      { key: 'drone-c1', msg: d2c('drone-c1', 'status', Buffer.from(JSON.stringify(droneStatus({ droneId: 'drone-c1', seq: 2 })))) }, // duplicate
      { key: 'drone-c1', msg: d2c('drone-c1', 'event', Buffer.from(JSON.stringify({ v: 1, droneId: 'drone-c1', bootId: 'boot-a', seq: 0, ts: 1_700_000_000_000, kind: 'statustext', severity: 6, text: 'hello' }))) },
      bad('drone-c3', 'status', '{not json'),
      bad(null, 'status', JSON.stringify(droneStatus({ droneId: 'drone-c3' }))),
      bad('drone-c3', 'telemetry-v9', '{}'),
      bad('drone-c3', 'status', JSON.stringify(droneStatus({ droneId: 'drone-c4' }))),
    ]);
    await until(() => writer.seen.length >= 10 && (hub.counters.rejected.HUB_ERR_UNKNOWN_TOPIC ?? 0) >= 2 && (hub.counters.rejected.HUB_ERR_TOPIC_MISMATCH ?? 0) >= 1 || undefined, 'the pipeline to take the batch', 20_000);
    expect(writer.seen.sort()).toEqual(['drone-c1', 'drone-c2'].flatMap((d) => [0, 1, 2, 3, 4].map((s) => `${d}/boot-a/${s}`)).sort());
    expect(hub.fleet.get('drone-c2')?.status?.seq).toBe(4);
    expect(hub.counters.rejected).toMatchObject({ HUB_ERR_PAYLOAD: 1, HUB_ERR_UNKNOWN_TOPIC: 2, HUB_ERR_TOPIC_MISMATCH: 1, HUB_ERR_DUPLICATE: 1 });
    expect(hub.counters.messagesIn['status']).toBe(13);
  });

  it('resumes from its checkpoints after a restart: nothing lost, only the un-checkpointed tail read again', async () => {
    const container = `cloud-${++containerSeq}`;
    const drones = ['drone-r1', 'drone-r2', 'drone-r3', 'drone-r4', 'drone-r5'];
    const a = new RecordingWriter();
    const hubA = await startHub(container, a);
    await publish(statuses(drones, 0, 12));
    await until(() => a.seen.filter((k) => k.startsWith('drone-r')).length >= 60 || undefined, 'hub A to process the first 60', 20_000);
    await hubA.close();
    hubs.splice(hubs.indexOf(hubA), 1);
    const tail = await uncheckpointed(container); // what A took without checkpointing yet
    await publish(statuses(drones, 12, 12));
    const b = new RecordingWriter();
    await startHub(container, b);
    const all = statuses(drones, 0, 24).map(({ msg }) => JSON.parse((msg.body as Buffer).toString()) as DroneStatus).map((s) => `${s.droneId}/${s.bootId}/${s.seq}`);
    const mine = (w: RecordingWriter) => w.seen.filter((k) => k.startsWith('drone-r'));
    await until(() => new Set([...mine(a), ...mine(b)]).size >= 120 || undefined, 'hub B to catch up', 20_000);
    await new Promise((r) => setTimeout(r, 1_500)); // room for anything B would wrongly read twice
    expect(new Set([...mine(a), ...mine(b)])).toEqual(new Set(all));
    expect(new Set(mine(a)).size).toBe(mine(a).length);
    expect(new Set(mine(b)).size).toBe(mine(b).length);
    // B read again exactly what A had not checkpointed, and nothing A had.
    expect(new Set(mine(b).filter((k) => mine(a).includes(k)))).toEqual(new Set([...tail].filter((k) => k.startsWith('drone-r'))));
  });

  it('two hubs on one consumer group and checkpoint container share the partitions: each status handled by exactly one', async () => {
    const container = `cloud-${++containerSeq}`;
    const a = new RecordingWriter();
    const b = new RecordingWriter();
    await startHub(container, a);
    await startHub(container, b);
    const store = new BlobCheckpointStore(new ContainerClient(azurite.connectionString, container));
    // Wait for the load balancer to settle: two owners with two partitions each, one receiver per
    // partition, and no receiver attached for several balancing intervals (a handoff re-reads
    // from the last checkpoint, so only a settled group promises exactly one handler).
    let owners: number[] = [];
    let quietSince = Date.now();
    let lastAttaches = -1;
    await untilAsync(async () => {
      const own = await store.listOwnership('127.0.0.1', eh.hub, 'hubs');
      const byOwner = new Map<string, number>();
      for (const o of own) if (o.ownerId) byOwner.set(o.ownerId, (byOwner.get(o.ownerId) ?? 0) + 1);
      owners = [...byOwner.values()];
      if (eh.receiverAttaches() !== lastAttaches) {
        lastAttaches = eh.receiverAttaches();
        quietSince = Date.now();
      }
      const r = eh.receivers().filter((k) => k.startsWith('hubs/'));
      return owners.length === 2 && owners.every((n) => n === 2) && r.length === 4 && new Set(r).size === 4 && Date.now() - quietSince > 2_000;
    }, 'the two hubs to settle on two partitions each', 30_000);
    const drones = Array.from({ length: 8 }, (_, i) => `drone-s${i}`);
    const before = { a: a.seen.length, b: b.seen.length };
    await publish(statuses(drones, 100, 10));
    const count = () => [...a.seen, ...b.seen].filter((k) => k.startsWith('drone-s')).length;
    await until(() => count() >= 80 || undefined, 'both hubs to process 80 statuses', 20_000);
    await new Promise((r) => setTimeout(r, 1_000)); // room for anything handled twice
    const sa = a.seen.slice(before.a).filter((k) => k.startsWith('drone-s'));
    const sb = b.seen.slice(before.b).filter((k) => k.startsWith('drone-s'));
    expect(sa.length).toBeGreaterThan(0);
    expect(sb.length).toBeGreaterThan(0);
    expect(sa.filter((k) => sb.includes(k))).toEqual([]);
    expect(new Set([...sa, ...sb]).size).toBe(80);
  });
});
