import { afterEach, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { FleetHub, MemoryDeviceRegistry, hubConfig, type HubLogger } from '../src/index.js';
import {
  decodeMessage, encodeMessage, subscriptions, topics, type DeliveryAssignment, type DeliveryTracking, type DroneCommand, type DroneEvent,
} from '@aerie/contracts';
import { droneStatus } from '../../test-support/fixtures.js';
import { until } from '../../test-support/until.js';

// Issue 5, Observability and Delivery tracking, checked on a running hub over real MQTT:
// what /metrics exposes after real traffic, what the pino lines carry, and the abort / failsafe paths.

let hub: FleetHub | undefined;
const clients: MqttClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.endAsync(true);
  await hub?.close();
  hub = undefined;
});

async function start(overrides: Parameters<typeof hubConfig>[0], log: HubLogger = () => undefined) {
  const registry = new MemoryDeviceRegistry();
  const secrets = new Map<string, string>();
  for (const [id, role] of [['drone-001', 'drone'], ['drone-002', 'drone'], ['svc-core', 'service']] as const) secrets.set(id, (await registry.add(id, role)).secret);
  const h = await FleetHub.start(hubConfig({ mqttPort: 0, ...overrides }), { registry, log });
  hub = h;
  const connect = async (id: string) => {
    const c = await mqtt.connectAsync(h.mqttUrl, { clientId: id, username: id, password: secrets.get(id), protocolVersion: 4, reconnectPeriod: 0 });
    clients.push(c);
    return c;
  };
  return { hub: h, connect };
}

/** The core's side: every DeliveryTracking on the tracking topics. */
async function watchTracking(core: MqttClient): Promise<DeliveryTracking[]> {
  const got: DeliveryTracking[] = [];
  core.on('message', (_t, p) => {
    const d = decodeMessage('DeliveryTracking', p);
    if (d.ok) got.push(d.value);
  });
  await core.subscribeAsync(subscriptions.allTracking, { qos: 1 });
  return got;
}

async function watchCommands(drone: MqttClient, id: string): Promise<DroneCommand[]> {
  const got: DroneCommand[] = [];
  drone.on('message', (_t, p) => {
    const d = decodeMessage('DroneCommand', p);
    if (d.ok) got.push(d.value);
  });
  await drone.subscribeAsync(topics.command(id), { qos: 1 });
  return got;
}

type Sample = { name: string; labels: Record<string, string>; value: number };

/** Prometheus text exposition 0.0.4: `name{l="v",…} value` lines; # lines skipped. */
function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

async function scrape(url: string): Promise<Sample[]> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return parseExposition(await res.text());
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

const home = { lat: 47.3977, lon: 8.5456 };
const pickup = { lat: 47.399, lon: 8.547 };
const dropoff = { lat: 47.401, lon: 8.55 };
const assignment = (deliveryId: string, correlationId: string, action: DeliveryAssignment['action'] = 'fly'): DeliveryAssignment => ({
  v: 1, deliveryId, droneId: 'drone-001', ts: 1, correlationId, action, pickup, dropoff, cruiseAltM: 30, groundDelayS: 5,
});
const at = (seq: number, p: { lat: number; lon: number }, landedState: 'ON_GROUND' | 'TAKEOFF' | 'IN_AIR', extra: Parameters<typeof droneStatus>[0] = {}) =>
  encodeMessage(droneStatus({ seq, armed: true, landedState, position: { ...p, altMsl: 488, altRel: landedState === 'ON_GROUND' ? 0 : 10 }, ...extra }));

describe('fleet-hub observability', () => {
  it('exposes its own V8 heap and resident set, the gauges the soak reports slopes of', async () => {
    const { hub } = await start({ metricsPort: 0 });
    const m = await scrape(hub.metricsUrl);
    const used = value(m, 'nodejs_heap_size_used_bytes')!;
    expect(used).toBeGreaterThan(1 << 20);
    expect(value(m, 'nodejs_heap_size_total_bytes')!).toBeGreaterThanOrEqual(used);
    expect(value(m, 'process_resident_memory_bytes')!).toBeGreaterThan(used);
  });

  it('exposes connections, messages in/out, refused and rejected by reason, shed, queue depths and stage transitions at /metrics', async () => {
    const { hub, connect } = await start({ metricsPort: 0, maxPendingStatuses: 1 });
    expect(hub.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const before = value(await scrape(hub.metricsUrl), 'aerie_hub_connections');
    expect(before).toBeTypeOf('number');

    const core = await connect('svc-core');
    const tracking = await watchTracking(core);
    const drone = await connect('drone-001');
    const commands = await watchCommands(drone, 'drone-001');
    // The broker counts a connection once CONNACK is out; both clients have theirs, so this holds now.
    expect(value(await scrape(hub.metricsUrl), 'aerie_hub_connections')).toBe(before! + 2);

    // A stage transition: assignment → mission command, then the drone takes off.
    await core.publishAsync(topics.assignment('dlv-m'), encodeMessage(assignment('dlv-m', 'corr-m')), { qos: 1, retain: true });
    await until(() => commands[0], 'the mission command');
    await drone.publishAsync(topics.status('drone-001'), at(1, home, 'TAKEOFF'), { qos: 1 });
    await until(() => tracking.find((t) => t.type === 'DeliveryHeadedToPickup'), 'HeadedToPickup');
    // A malformed payload (rejected by the pipeline) and an ACL violation (refused at the broker).
    await drone.publishAsync(topics.status('drone-001'), 'not json', { qos: 1 });
    // MQTT 3.1.1 has no negative PUBACK: aedes closes the offender's connection, so a second drone does it.
    const rogue = await connect('drone-002');
    rogue.publish(topics.status('drone-001'), at(2, home, 'IN_AIR'), { qos: 1 });
    await until(() => hub.counters.rejected.HUB_ERR_PAYLOAD === 1 && hub.counters.refused.HUB_ERR_ACL_PUBLISH === 1, 'the refusal and the rejection counted');
    // Shedding: the intake entry point the broker calls, offered five statuses for one drone in one
    // turn of the event loop with room for one; keep-newest sheds the four older ones.
    for (let seq = 10; seq < 15; seq += 1) hub.ingest('drone-002', 'status', Buffer.from(encodeMessage(droneStatus({ droneId: 'drone-002', seq }))));
    expect(hub.counters.shed.statuses).toBe(4);
    await until(() => hub.ingestStats().pendingStatuses === 0, 'the intake drained');

    let m = await scrape(hub.metricsUrl);
    for (let i = 0; i < 200 && value(m, 'aerie_hub_connections') !== before! + 2; i += 1) {
      await new Promise((r) => setTimeout(r, 25));
      m = await scrape(hub.metricsUrl);
    }
    expect(value(m, 'aerie_hub_connections')).toBe(before! + 2); // the refused drone's connection is gone
    // 1 good status + 1 malformed over MQTT + 5 offered directly (the refused one never reached intake).
    expect(value(m, 'aerie_hub_messages_in_total', { channel: 'status' })).toBe(7);
    expect(value(m, 'aerie_hub_messages_out_total', { kind: 'command' })).toBe(1);
    expect(value(m, 'aerie_hub_messages_out_total', { kind: 'tracking' })).toBe(hub.counters.trackingPublished);
    expect(value(m, 'aerie_hub_messages_out_total', { kind: 'tracking' })).toBeGreaterThanOrEqual(1);
    expect(value(m, 'aerie_hub_refused_total', { reason: 'HUB_ERR_ACL_PUBLISH' })).toBe(1);
    expect(value(m, 'aerie_hub_rejected_total', { reason: 'HUB_ERR_PAYLOAD' })).toBe(1);
    expect(value(m, 'aerie_hub_shed_total', { kind: 'status' })).toBe(4);
    expect(value(m, 'aerie_hub_shed_total', { kind: 'event' })).toBe(0);
    expect(value(m, 'aerie_hub_queue_depth', { queue: 'status' })).toBe(0);
    expect(value(m, 'aerie_hub_queue_depth', { queue: 'event' })).toBe(0);
    expect(value(m, 'aerie_hub_stage_transitions_total', { stage: 'HeadedToPickup' })).toBe(1);
    // Every stage series agrees with what the core actually received on the tracking topics.
    for (const stage of new Set(tracking.map((t) => t.stage))) {
      expect(value(m, 'aerie_hub_stage_transitions_total', { stage })).toBe(tracking.filter((t) => t.stage === stage).length);
    }
    expect((await fetch(`${hub.metricsUrl}/other`)).status).toBe(404);
  });

  it('writes pino lines carrying the drone id, and the correlationId on tracking events', async () => {
    const lines: Record<string, unknown>[] = [];
    const dest = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
        cb();
      },
    });
    // Wired as main.ts wires it.
    const logger = pino({ base: { service: 'aerie-hub' } }, dest);
    const { connect } = await start({}, (msg, fields) => logger.info(fields ?? {}, msg));
    const core = await connect('svc-core');
    const tracking = await watchTracking(core);
    const drone = await connect('drone-001');
    await core.publishAsync(topics.assignment('dlv-l'), encodeMessage(assignment('dlv-l', 'corr-l')), { qos: 1, retain: true });
    await drone.publishAsync(topics.status('drone-001'), at(1, home, 'TAKEOFF'), { qos: 1 });
    await until(() => tracking.find((t) => t.type === 'DeliveryHeadedToPickup'), 'HeadedToPickup');
    await drone.publishAsync(topics.status('drone-001'), '{"v":1', { qos: 1 });
    (await connect('drone-002')).publish(topics.status('drone-001'), at(2, home, 'IN_AIR'), { qos: 1 });
    const ev: DroneEvent = { v: 1, droneId: 'drone-001', bootId: 'boot-a', seq: 1, ts: 1_700_000_000_000, kind: 'failsafe_raised', severity: 2, text: 'battery critical' };
    await drone.publishAsync(topics.events('drone-001'), encodeMessage(ev), { qos: 1 });

    const find = (pred: (l: Record<string, unknown>) => boolean, what: string) => until(() => lines.find(pred), what);
    const track = await find((l) => String(l.msg).startsWith('tracking DeliveryHeadedToPickup'), 'the tracking log line');
    expect(track).toMatchObject({ level: 30, service: 'aerie-hub', droneId: 'drone-001', deliveryId: 'dlv-l', correlationId: 'corr-l', stage: 'HeadedToPickup' });
    const rejected = await find((l) => l.code === 'HUB_ERR_PAYLOAD', 'the rejection log line');
    expect(rejected).toMatchObject({ droneId: 'drone-001' });
    const refused = await find((l) => l.code === 'HUB_ERR_ACL_PUBLISH', 'the refusal log line');
    expect(refused).toMatchObject({ droneId: 'drone-002', clientId: 'drone-002', topic: topics.status('drone-001') });
    const event = await find((l) => String(l.msg).includes('battery critical'), 'the drone event log line');
    expect(event).toMatchObject({ droneId: 'drone-001', kind: 'failsafe_raised', severity: 2 });
  });
});

describe('fleet-hub delivery tracking: abort and failsafe over MQTT', () => {
  it('on a failsafe RTL with the package on board, publishes DeliveryFailed with the correlationId and stops tracking', async () => {
    const { connect } = await start({});
    const core = await connect('svc-core');
    const tracking = await watchTracking(core);
    const drone = await connect('drone-001');
    await core.publishAsync(topics.assignment('dlv-f'), encodeMessage(assignment('dlv-f', 'corr-f')), { qos: 1, retain: true });
    await drone.publishAsync(topics.status('drone-001'), at(1, home, 'TAKEOFF'), { qos: 1 });
    await until(() => tracking.some((t) => t.type === 'DeliveryHeadedToPickup'), 'HeadedToPickup');
    await drone.publishAsync(topics.status('drone-001'), at(2, pickup, 'ON_GROUND'), { qos: 1 });
    await until(() => tracking.some((t) => t.type === 'PackagePickedUp'), 'PickedUp');
    await drone.publishAsync(topics.status('drone-001'), at(3, pickup, 'IN_AIR', { flightMode: 'RETURN', payload: 'onboard', health: { sensorsHealthy: true, failsafe: true } }), { qos: 1 });
    const failed = await until(() => tracking.find((t) => t.type === 'DeliveryFailed'), 'DeliveryFailed');
    expect(failed).toMatchObject({ stage: 'Failed', deliveryId: 'dlv-f', droneId: 'drone-001', correlationId: 'corr-f', reason: 'failsafe return-to-launch with the package on board' });
    // Tracking has ended: a later landing at the dropoff completes nothing.
    const n = tracking.length;
    await drone.publishAsync(topics.status('drone-001'), at(4, dropoff, 'ON_GROUND', { payload: 'released' }), { qos: 1 });
    await until(() => hub!.counters.statuses === 4, 'the last status processed');
    expect(tracking.slice(n)).toEqual([]);
    expect(tracking.every((t) => t.correlationId === 'corr-f')).toBe(true);
  });

  it('on the core aborting a delivery, sends the drone home with the correlationId and tracks it no further', async () => {
    const { connect } = await start({});
    const core = await connect('svc-core');
    const tracking = await watchTracking(core);
    const drone = await connect('drone-001');
    const commands = await watchCommands(drone, 'drone-001');
    await core.publishAsync(topics.assignment('dlv-c'), encodeMessage(assignment('dlv-c', 'corr-c')), { qos: 1, retain: true });
    await until(() => commands[0], 'the mission command');
    await drone.publishAsync(topics.status('drone-001'), at(1, home, 'TAKEOFF'), { qos: 1 });
    await until(() => tracking.some((t) => t.type === 'DeliveryHeadedToPickup'), 'HeadedToPickup');
    // The core cancels (delivery-core service.ts publishes the assignment again with action 'abort').
    await core.publishAsync(topics.assignment('dlv-c'), encodeMessage(assignment('dlv-c', 'corr-c', 'abort')), { qos: 1, retain: true });
    const rtl = await until(() => commands.find((c) => c.action.kind === 'rtl'), 'the RTL command');
    expect(rtl).toMatchObject({ commandId: 'rtl-dlv-c', droneId: 'drone-001', correlationId: 'corr-c' });
    const n = tracking.length;
    await drone.publishAsync(topics.status('drone-001'), at(2, pickup, 'ON_GROUND'), { qos: 1 });
    await until(() => hub!.counters.statuses === 2, 'the next status processed');
    expect(tracking.slice(n)).toEqual([]);
    // Clearing the retained assignment afterwards is harmless.
    await core.publishAsync(topics.assignment('dlv-c'), '', { qos: 1, retain: true });
    await drone.publishAsync(topics.status('drone-001'), at(3, dropoff, 'ON_GROUND', { payload: 'released' }), { qos: 1 });
    await until(() => hub!.counters.statuses === 3, 'the last status processed');
    expect(tracking.slice(n)).toEqual([]);
  });
});
