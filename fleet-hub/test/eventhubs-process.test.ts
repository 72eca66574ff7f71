import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { EventHubProducerClient } from '@azure/event-hubs';
import { encodeMessage, topics, type DeliveryAssignment } from '@aerie/contracts';
import { BlobCheckpointStore } from '@azure/eventhubs-checkpointstore-blob';
import { ContainerClient } from '@azure/storage-blob';
import { HubError, parseHubCommand } from '../src/index.js';
import { startEventHubsEmulator, type EventHubsEmulator } from '../../test-support/eventhubs/emulator.js';
import { startAzurite, type RunningAzurite } from '../../test-support/azurite.js';
import { droneStatus } from '../../test-support/fixtures.js';
import { until } from '../../test-support/until.js';

// The real aerie-hub process in cloud mode, configured by its CLI and environment, SIGKILLed
// mid-stream and started again: it resumes from the blob checkpoints in Azurite.
const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'aerie-hub-cloudproc-'));
const CONTAINER = 'cloud-process';
let eh: EventHubsEmulator;
let azurite: RunningAzurite;
let producer: EventHubProducerClient;
const procs: ChildProcess[] = [];

beforeAll(async () => {
  [eh, azurite] = await Promise.all([startEventHubsEmulator({ hub: 'iothub-ehub', partitions: 4, consumerGroups: ['hubs', 'hubs-tracking'] }), startAzurite()]);
  producer = new EventHubProducerClient(eh.connectionString, eh.hub);
});
afterAll(async () => {
  for (const p of procs) {
    if (p.exitCode === null && p.signalCode === null) {
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      await exited;
    }
  }
  await producer?.close();
  await eh?.close();
  await azurite?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function startHubProcess(container = CONTAINER, group = 'hubs', extra: string[] = [], env: Record<string, string> = {}): Promise<{ proc: ChildProcess; metricsUrl: string; mqttUrl: string }> {
  const proc = spawn(process.execPath, [main, '--mqtt-port', '0', '--metrics-port', '0', '--data-dir', dataDir, '--source', 'eventhubs',
    '--eventhubs-name', eh.hub, '--eventhubs-consumer-group', group, '--checkpoint-container', container, '--eventhubs-balance-ms', '300', ...extra], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, AERIE_HUB_EVENTHUBS_CONNECTION_STRING: eh.connectionString, AERIE_HUB_CHECKPOINT_STORAGE_CONNECTION_STRING: azurite.connectionString, ...env },
  });
  procs.push(proc);
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  const metricsUrl = await until(() => /"metricsUrl":"([^"]+)"/.exec(out)?.[1], 'the hub process to start', 20_000);
  return { proc, metricsUrl, mqttUrl: /"mqttUrl":"([^"]+)"/.exec(out)![1]! };
}

/** Device-to-cloud statuses as IoT Hub writes them to its built-in endpoint (device id stamped, one partition per device). */
async function publish(drones: string[], from: number, n: number): Promise<void> {
  for (const d of drones) {
    const batch = await producer.createBatch();
    for (let seq = from; seq < from + n; seq++) {
      expect(batch.tryAdd({
        body: Buffer.from(JSON.stringify(droneStatus({ droneId: d, seq }))), bodyType: 'data',
        messageAnnotations: { 'iothub-connection-device-id': d, 'x-opt-partition-key': d }, applicationProperties: { type: 'status' },
      })).toBe(true);
    }
    await producer.sendBatch(batch);
  }
}

async function metric(url: string, reason: 'in' | 'duplicate'): Promise<number> {
  const re = reason === 'in' ? /^aerie_hub_messages_in_total\{channel="status"\} (\d+)$/m : /^aerie_hub_rejected_total\{reason="HUB_ERR_DUPLICATE"\} (\d+)$/m;
  const m = re.exec(await (await fetch(`${url}/metrics`)).text());
  return m ? Number(m[1]) : 0;
}

async function untilAsync(probe: () => Promise<boolean>, what: string, realMs = 20_000): Promise<void> {
  const end = Date.now() + realMs;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`timed out after ${realMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('aerie-hub process in cloud mode', () => {
  it('is configured from flags and environment, and refuses a cloud mode without its connection strings', () => {
    const cmd = parseHubCommand(['--source', 'eventhubs', '--eventhubs-name', 'fleet'], {
      AERIE_HUB_EVENTHUBS_CONNECTION_STRING: 'Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=s',
      AERIE_HUB_CHECKPOINT_STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true',
    });
    expect(cmd.kind === 'run' && cmd.config.source).toBe('eventhubs');
    expect(cmd.kind === 'run' && cmd.config.eventHubs).toMatchObject({ hubName: 'fleet', consumerGroup: '$default', container: 'aerie-hub-checkpoints' });
    expect(() => parseHubCommand(['--source', 'eventhubs', '--eventhubs-name', 'fleet'], {})).toThrow(HubError);
    expect(() => parseHubCommand(['--source', 'kafka'], {})).toThrow(/--source/);
  });

  it('SIGKILLed and restarted: reads again only what was past its checkpoints, exactly once after dedupe, nothing lost', async () => {
    const drones = ['drone-k1', 'drone-k2', 'drone-k3', 'drone-k4', 'drone-k5'];
    const a = await startHubProcess();
    await publish(drones, 0, 10);
    await untilAsync(async () => (await metric(a.metricsUrl, 'in')) >= 50, 'process A to take in the first 50');
    const exited = new Promise((r) => a.proc.once('exit', r));
    a.proc.kill('SIGKILL');
    await exited;
    const store = new BlobCheckpointStore(new ContainerClient(azurite.connectionString, CONTAINER));
    const cps = await store.listCheckpoints('127.0.0.1', eh.hub, 'hubs');
    // Past each partition's checkpoint: what a new owner must read again.
    const tail = [0, 1, 2, 3].reduce((n, p) => n + eh.events(p).length - 1 - (cps.find((c) => c.partitionId === String(p))?.sequenceNumber ?? -1), 0);
    await publish(drones, 10, 10);
    const b = await startHubProcess();
    await untilAsync(async () => (await metric(b.metricsUrl, 'in')) - (await metric(b.metricsUrl, 'duplicate')) >= tail + 50, 'process B to read the tail and the new 50');
    await new Promise((r) => setTimeout(r, 1_500)); // room for anything read twice
    expect((await metric(b.metricsUrl, 'in')) - (await metric(b.metricsUrl, 'duplicate'))).toBe(tail + 50);
    // Cloud mode's readiness includes the Event Hubs consumer; SIGTERM stops reading, drains, exits 0.
    const ready = await fetch(`${b.metricsUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { checks: Record<string, string> }).checks).toMatchObject({ eventHubs: 'ok', listeners: 'ok', eventLog: 'ok' });
    const stopped = new Promise((r) => b.proc.once('exit', r));
    b.proc.kill('SIGTERM');
    expect(await stopped).toBe(0);
  });

  it('with --event-stream eventhubs appends tracking events to an event hub, keyed by deliveryId, with their correlationId', async () => {
    const tracking = await startEventHubsEmulator({ hub: 'delivery-tracking', partitions: 2 });
    try {
      const out = execFileSync(process.execPath, [main, 'device', 'add', 'svc-core', '--role', 'service', '--data-dir', dataDir]).toString();
      const secret = /shown once\): (\S+)/.exec(out)![1]!;
      const hub = await startHubProcess('cloud-process-tracking', 'hubs-tracking', ['--event-stream', 'eventhubs', '--event-stream-hub', tracking.hub], { AERIE_HUB_EVENT_STREAM_CONNECTION_STRING: tracking.connectionString });
      const core = await mqtt.connectAsync(hub.mqttUrl, { clientId: 'svc-core', username: 'svc-core', password: secret, reconnectPeriod: 0 });
      const a: DeliveryAssignment = {
        v: 1, deliveryId: 'dlv-eh-1', droneId: 'drone-k1', ts: 1, correlationId: 'corr-eh-1', action: 'fly',
        pickup: { lat: 47.399, lon: 8.547 }, dropoff: { lat: 47.401, lon: 8.55 }, cruiseAltM: 30, groundDelayS: 5,
      };
      await core.publishAsync(topics.assignment(a.deliveryId), encodeMessage(a), { qos: 1, retain: true });
      // Airborne with the delivery assigned: HeadedToPickup, through the cloud intake.
      await new Promise((r) => setTimeout(r, 300));
      const batch = await producer.createBatch();
      batch.tryAdd({
        body: Buffer.from(JSON.stringify(droneStatus({ droneId: 'drone-k1', seq: 1_000, armed: true, landedState: 'IN_AIR' }))), bodyType: 'data',
        messageAnnotations: { 'iothub-connection-device-id': 'drone-k1', 'x-opt-partition-key': 'drone-k1' }, applicationProperties: { type: 'status' },
      });
      await producer.sendBatch(batch);
      const stored = await until(() => [0, 1].flatMap((p) => tracking.events(p)).find((e) => e.partitionKey === 'dlv-eh-1'), 'a tracking event on the event hub', 20_000);
      expect(stored.message.correlation_id).toBe('corr-eh-1');
      expect(JSON.parse((stored.message.body as { content: Buffer }).content.toString())).toMatchObject({ deliveryId: 'dlv-eh-1', droneId: 'drone-k1', correlationId: 'corr-eh-1' });
      await core.endAsync();
      const exited = new Promise((r) => hub.proc.once('exit', r));
      hub.proc.kill('SIGTERM');
      await exited;
    } finally {
      await tracking.close();
    }
  });
});
