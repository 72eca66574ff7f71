import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import deviceSdk from 'azure-iot-device';
import { Mqtt } from 'azure-iot-device-mqtt';
import { encodeMessage, systemClock, topics, type Clock } from '@aerie/contracts';
import { FleetHub, MemoryDeviceRegistry, hubConfig } from '../src/index.js';
import { C2dQueues } from '../src/domain/iothub-c2d.js';
import { makeTestPki, type TestPki } from '../../test-support/certs.js';
import { until } from '../../test-support/until.js';

// Cloud-to-device queues as IoT Hub keeps them: TTL (1 h by default) and 50 per device, the
// excess refused with a code and counted; what is live survives a restart, what expired does not.
const { Client } = deviceSdk;
type SdkMessage = InstanceType<typeof deviceSdk.Message>;

let pki: TestPki;
const dirs: string[] = [];
const hubs: FleetHub[] = [];
beforeAll(() => {
  pki = makeTestPki();
});
afterAll(() => pki.remove());
afterEach(async () => {
  for (const h of hubs.splice(0)) await h.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const rtl = (commandId: string) => encodeMessage({ v: 1, commandId, droneId: 'drone-001', ts: 1, action: { kind: 'rtl' } });

describe('C2D queue (domain)', () => {
  it('refuses past the depth, recognises a live id, expires by TTL and forgets completions after theirs', () => {
    const q = new C2dQueues(2, 1_000);
    expect(q.enqueue('d', 'a', Buffer.from('1'), {}, 0).ok).toBe(true);
    expect(q.enqueue('d', 'a', Buffer.from('1'), {}, 10)).toEqual({ ok: false, reason: 'IOTHUB_C2D_DUPLICATE' });
    expect(q.enqueue('d', 'b', Buffer.from('2'), {}, 500).ok).toBe(true);
    expect(q.enqueue('d', 'c', Buffer.from('3'), {}, 600)).toEqual({ ok: false, reason: 'IOTHUB_C2D_QUEUE_FULL' });
    // Another device has its own queue.
    expect(q.enqueue('e', 'c', Buffer.from('3'), {}, 600).ok).toBe(true);
    expect(q.complete('d', 'b')?.messageId).toBe('b');
    // Completed and still within its TTL: a re-send is the same message.
    expect(q.enqueue('d', 'b', Buffer.from('2'), {}, 900)).toEqual({ ok: false, reason: 'IOTHUB_C2D_DUPLICATE' });
    expect(q.expire(1_000).map((x) => `${x.deviceId}/${x.message.messageId}`)).toEqual(['d/a']);
    expect(q.expire(1_600).map((x) => `${x.deviceId}/${x.message.messageId}`)).toEqual(['e/c']);
    expect(q.enqueue('d', 'b', Buffer.from('2'), {}, 1_600).ok).toBe(true);
  });
});

describe('C2D queue on the IoT Hub endpoint', () => {
  it('refuses the 4th of 3 allowed (HUB_ERR_C2D_QUEUE_FULL), drops expired ones (HUB_ERR_C2D_EXPIRED), counts and logs both; a restart keeps only what is live', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aerie-hub-c2d-'));
    dirs.push(dir);
    const registry = new MemoryDeviceRegistry();
    const key = (await registry.add('drone-001', 'drone', 'sas')).secret;
    let offsetMs = 0;
    const clock: Clock = { ...systemClock, now: () => Date.now() + offsetMs };
    const logs: string[] = [];
    const start = async () => {
      const hub = await FleetHub.start(hubConfig({
        mqttPort: 0, iothubPort: 0, tlsCertFile: pki.serverCertFile, tlsKeyFile: pki.serverKeyFile, tlsCaFile: pki.caFile,
        iothubStateDir: dir, iothubMaxQueuedC2D: 3,
      }), { registry, clock, log: (line) => logs.push(line) });
      hubs.push(hub);
      return hub;
    };
    let hub = await start();
    const ep = () => hub.iothub!.endpoint;
    for (const id of ['c1', 'c2', 'c3', 'c4']) expect(hub.iothub!.takeCommand(topics.command('drone-001'), rtl(id))).toBe(true);
    expect(ep().queuedC2D('drone-001')).toBe(3);
    expect(hub.counters.refused.HUB_ERR_C2D_QUEUE_FULL).toBe(1);
    expect(ep().refusedByReason.IOTHUB_C2D_QUEUE_FULL).toBe(1);
    expect(logs.some((l) => l.includes('HUB_ERR_C2D_QUEUE_FULL') && l.includes('client=drone-001'))).toBe(true);
    // The same command again is the same message: not queued twice, and not a refusal.
    hub.iothub!.takeCommand(topics.command('drone-001'), rtl('c1'));
    expect(ep().c2dStats).toMatchObject({ queued: 3, duplicates: 1 });

    // Past IoT Hub's default TTL (1 h) on the hub's clock: all three dropped, each counted.
    offsetMs = 2 * 3_600_000;
    await until(() => hub.counters.refused.HUB_ERR_C2D_EXPIRED === 3, 'the three messages expired');
    expect(ep().queuedC2D('drone-001')).toBe(0);
    expect(logs.filter((l) => l.includes('HUB_ERR_C2D_EXPIRED')).length).toBe(3);
    hub.iothub!.takeCommand(topics.command('drone-001'), rtl('c5'));
    await hub.close();
    // Back to real time, so the SDK's SAS token (signed for an hour from now) is valid again; c5 stays live.
    offsetMs = 0;
    hubs.splice(0);

    hub = await start();
    expect(ep().queuedC2D('drone-001')).toBe(1);
    const c = Client.fromConnectionString(`HostName=localhost:${ep().port};DeviceId=drone-001;SharedAccessKey=${key}`, Mqtt);
    try {
      await c.setOptions({ ca: readFileSync(pki.caFile, 'utf8') });
      await c.open();
      const got: SdkMessage[] = [];
      c.on('message', (m: SdkMessage) => got.push(m));
      await until(() => got[0], 'the live message');
      await until(() => ep().queuedC2D('drone-001') === 0, 'its completion');
      await c.getTwin();
      expect(got.map((m) => m.messageId)).toEqual(['c5']);
      expect(got[0]!.properties.getValue('type')).toBe('command');
      // What expired before the restart is not counted again after it.
      expect(hub.counters.refused.HUB_ERR_C2D_EXPIRED).toBeUndefined();
    } finally {
      await c.close();
    }
  });
});
