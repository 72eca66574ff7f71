import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { FleetHub, MemoryDeviceRegistry, hubConfig } from '../src/index.js';
import { decodeMessage, encodeMessage, subscriptions, topics, type DeliveryAssignment, type DroneStatus } from '@aerie/contracts';
import { until } from '../../test-support/until.js';
import { droneStatus } from '../../test-support/fixtures.js';
import { startMosquitto, type RunningMosquitto } from '../../test-support/mosquitto.js';

// Issue 5: "out-of-order and duplicate telemetry never moves a stage backwards" — across a
// restart of a lone hub too. The stage was only kept (retained svc/v1/tracker-state) in a
// shared group, so a restarted hub started the delivery over at Scheduled and the next
// airborne status re-emitted DeliveryHeadedToPickup.
const clients: MqttClient[] = [];
const hubs: FleetHub[] = [];
const dirs: string[] = [];
const brokers: RunningMosquitto[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) await c.endAsync(true);
  for (const h of hubs.splice(0)) await h.close();
  for (const b of brokers.splice(0)) await b.stop();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const pickup = { lat: 47.399, lon: 8.547 };
const dropoff = { lat: 47.401, lon: 8.55 };
const home = { lat: 47.3977, lon: 8.5456 };
const assignment = (deliveryId: string): DeliveryAssignment => ({
  v: 1, deliveryId, droneId: 'drone-001', ts: 1, correlationId: `corr-${deliveryId}`, action: 'fly', pickup, dropoff, cruiseAltM: 30, groundDelayS: 5,
});
const at = (seq: number, p: { lat: number; lon: number }, landedState: DroneStatus['landedState']): DroneStatus => droneStatus({
  seq, ts: 1_700_000_000_000 + seq * 1000, armed: true, flightMode: 'MISSION', landedState,
  position: { ...p, altMsl: 488, altRel: landedState === 'ON_GROUND' ? 0 : 10 },
});

/** until() for a probe that reads a file. */
async function untilAsync(probe: () => Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + 20_000;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The hub on its embedded broker, or on Debian's Mosquitto (which then keeps the retained state). */
async function setup(external = false) {
  const dir = await mkdtemp(join(tmpdir(), 'aerie-hub-stage-'));
  dirs.push(dir);
  const retainedFile = join(dir, 'retained.json');
  const registry = new MemoryDeviceRegistry();
  const secrets: Record<string, string> = {};
  for (const [id, role] of [['drone-001', 'drone'], ['svc-core', 'service']] as const) secrets[id] = (await registry.add(id, role)).secret;
  const events: string[] = [];
  let mosquitto: RunningMosquitto | null = null;
  if (external) {
    mosquitto = await startMosquitto([
      { username: 'svc-hub', password: 'hub-secret', role: 'service' },
      { username: 'svc-core', password: secrets['svc-core']!, role: 'service' },
      { username: 'drone-001', password: secrets['drone-001']!, role: 'drone' },
    ]);
    brokers.push(mosquitto);
  }
  const config = mosquitto
    ? hubConfig({ broker: 'external', externalUrl: mosquitto.url, externalUsername: 'svc-hub', externalPassword: 'hub-secret' })
    : hubConfig({ mqttPort: 0, retainedFile });
  /** A hub on the same data, with the core watching tracking and the drone connected. */
  const start = async (run: string) => {
    const hub = await FleetHub.start(config, { registry, log: process.env.DBG ? (l) => console.log(l) : () => undefined });
    hubs.push(hub);
    const connect = async (id: string) => {
      const c = await mqtt.connectAsync(hub.mqttUrl, { clientId: id, username: id, password: secrets[id], protocolVersion: 4, reconnectPeriod: 0 });
      clients.push(c);
      return c;
    };
    const core = await connect('svc-core');
    core.on('message', (_t, p) => {
      const d = decodeMessage('DeliveryTracking', p);
      if (d.ok && d.value.type !== 'EtaUpdated') events.push(`${run} ${d.value.type}`);
    });
    await core.subscribeAsync(subscriptions.allTracking, { qos: 1 });
    const drone = await connect('drone-001');
    const status = (s: DroneStatus) => drone.publishAsync(topics.status('drone-001'), encodeMessage(s), { qos: 1 });
    const stop = async () => {
      await drone.endAsync();
      await core.endAsync();
      await hub.close();
    };
    return { hub, core, status, stop };
  };
  /** The retained tracker state kept in the embedded broker's file, by delivery. */
  const kept = async (): Promise<Record<string, string>> => {
    const raw = await readFile(retainedFile, 'utf8').catch(() => '[]');
    const out: Record<string, string> = {};
    for (const m of JSON.parse(raw) as { topic: string; payload: string }[]) {
      if (m.topic.startsWith('svc/v1/tracker-state/')) out[m.topic.split('/')[3]!] = Buffer.from(m.payload, 'base64').toString('utf8');
    }
    return out;
  };
  return { start, events, kept };
}

describe('a lone hub restarted mid-delivery', () => {
  it.each([['embedded broker', false], ['external Mosquitto', true]])('carries on from the stage it had reached (%s): no earlier stage again, and the delivery completes', async (_name, external) => {
    const { start, events, kept } = await setup(external);
    const first = await start('run1');
    await first.core.publishAsync(topics.assignment('dlv-r'), encodeMessage(assignment('dlv-r')), { qos: 1, retain: true });
    await until(() => first.hub.counters.commandsPublished > 0, 'the mission sent for the assignment');
    await first.status(at(1, home, 'TAKEOFF'));
    await first.status(at(2, pickup, 'ON_GROUND'));
    await first.status(at(3, pickup, 'TAKEOFF'));
    await until(() => events.includes('run1 DeliveryHeadedToDropoff'), 'HeadedToDropoff before the restart');
    expect(events).toEqual(['run1 DeliveryHeadedToPickup', 'run1 PackagePickedUp', 'run1 DeliveryHeadedToDropoff']);
    if (!external) await untilAsync(async () => (await kept())['dlv-r'] === 'HeadedToDropoff', 'the stage kept retained on disk');
    await first.stop();

    const second = await start('run2');
    // The same statuses again (a drone re-sending after the hub came back) and newer ones.
    await second.status(at(3, pickup, 'TAKEOFF'));
    await second.status(at(4, pickup, 'IN_AIR'));
    await second.status(at(5, { lat: 47.4, lon: 8.549 }, 'IN_AIR'));
    await second.status(at(6, dropoff, 'ON_GROUND'));
    await until(() => events.includes('run2 DeliveryCompleted'), 'the delivery completed after the restart');
    expect(events.filter((e) => e.startsWith('run2'))).toEqual(['run2 DeliveryCompleted']);
    // A finished delivery leaves no state behind.
    if (!external) await untilAsync(async () => !('dlv-r' in (await kept())), 'the stage cleared once the delivery completed');
    expect(second.hub.counters.transitions).not.toHaveProperty('HeadedToPickup');
    expect(second.hub.counters.transitions).not.toHaveProperty('PickedUp');
  });

  it('clears the kept stage when the core aborts for any reason, reassigned included', async () => {
    const { start, events, kept } = await setup();
    const hub = await start('run1');
    for (const [id, reason] of [['dlv-a', 'reassigned'], ['dlv-b', 'cancelled']] as const) {
      const sent = hub.hub.counters.commandsPublished;
      await hub.core.publishAsync(topics.assignment(id), encodeMessage(assignment(id)), { qos: 1, retain: true });
      // The assignment comes over the hub's own MQTT client, the status in-process: wait for the first.
      await until(() => hub.hub.counters.commandsPublished > sent, `${id}'s mission sent`);
      await hub.status(at(id === 'dlv-a' ? 1 : 11, home, 'TAKEOFF'));
      await until(() => events.includes('run1 DeliveryHeadedToPickup') && events.filter((e) => e.endsWith('HeadedToPickup')).length === (id === 'dlv-a' ? 1 : 2), `${id} headed to pickup`);
      await untilAsync(async () => (await kept())[id] === 'HeadedToPickup', `${id}'s stage kept`);
      await hub.core.publishAsync(topics.assignment(id), encodeMessage({ ...assignment(id), action: 'abort', abortReason: reason }), { qos: 1, retain: true });
      await untilAsync(async () => !(id in (await kept())), `${id}'s stage cleared after abort ${reason}`);
      await hub.status(at(id === 'dlv-a' ? 2 : 12, home, 'ON_GROUND'));
    }
    await until(() => events.includes('run1 DeliveryCancelled'), 'dlv-b cancelled');
    expect(events).toEqual(['run1 DeliveryHeadedToPickup', 'run1 DeliveryHeadedToPickup', 'run1 DeliveryCancelled']);
  });
});
