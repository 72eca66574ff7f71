import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '@aerie/contracts';
import { FleetHub, MemoryDeviceRegistry, hubConfig } from '@aerie/fleet-hub';
import { startEdgeAgent, agentConfig, type RunningAgent } from '@aerie/edge-agent';
import { startDeliveryCore, coreConfig, type RunningCore, type StageChange } from '@aerie/delivery-core';
import { startSimVehicle, WarpClock, type SimVehicle } from '@aerie/simulator';
import { until } from '../../test-support/until.js';
import { dropoff, pickup } from './e2e-loop.js';

// Issues 5 and 7, the hub ↔ core dispatch reply, end to end: a real hub (embedded aedes), a real
// simulated flight controller with a real edge agent, delivery-core on a SQLite file. The core's
// saga waits for the hub's DispatchReply; a refusal compensates; a restart mid-wait resumes.
const home = { lat: 47.3977, lon: 8.5456, altMsl: 488 };
const stoppers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stoppers.splice(0).reverse()) await s().catch(() => undefined);
});

interface Mini {
  clock: Clock;
  hub: FleetHub;
  vehicle: SimVehicle;
  logs: string[];
  /** The hub's structured log fields, by line. */
  fields: Map<string, Record<string, unknown>>;
  dbPath: string;
  agent: RunningAgent;
  startAgent(): Promise<RunningAgent>;
  startCore(): Promise<RunningCore>;
}

async function mini(hubOptions: Parameters<typeof hubConfig>[0] = {}): Promise<Mini> {
  const clock = new WarpClock({ speedup: 10 });
  const logs: string[] = [];
  const fields = new Map<string, Record<string, unknown>>();
  const log = (l: string, f?: Record<string, unknown>) => {
    logs.push(l);
    if (f) fields.set(l, f);
  };
  const dir = mkdtempSync(join(tmpdir(), 'aerie-h4-e2e-'));
  stoppers.push(() => Promise.resolve(rmSync(dir, { recursive: true, force: true })));
  const registry = new MemoryDeviceRegistry();
  const drone = (await registry.add('drone-001', 'drone')).secret;
  const core = (await registry.add('svc-core', 'service')).secret;
  const hub = await FleetHub.start(hubConfig({ mqttPort: 0, dataDir: dir, ...hubOptions }), { clock, log, registry });
  stoppers.push(() => hub.close());
  let fcPort = 0;
  const startAgent = async () => {
    const a = await startEdgeAgent(agentConfig({ droneId: 'drone-001', fc: { port: fcPort }, mqtt: { url: hub.mqttUrl, username: 'drone-001', password: drone } }), { clock });
    fcPort = a.fcPort;
    stoppers.push(() => a.stop());
    return a;
  };
  const agent = await startAgent();
  const vehicle = await startSimVehicle({ sysid: 1, home, clock, host: '127.0.0.1', port: 0, peer: { address: '127.0.0.1', port: agent.fcPort } });
  stoppers.push(() => vehicle.stop());
  const dbPath = join(dir, 'deliveries.sqlite');
  const startCore = async () => {
    const c = await startDeliveryCore(coreConfig({
      httpPort: 0, dbPath, mqtt: { url: hub.mqttUrl, username: 'svc-core', password: core, clientId: 'svc-core' },
      // The drone may be offline when it is assigned (the restart test): its last status still counts.
      assignment: { maxStatusAgeMs: 600_000 },
    }), { clock, log });
    // Closed once: by the test (a restart) or after it.
    let closing: Promise<void> | null = null;
    const close = () => (closing ??= c.close());
    stoppers.push(close);
    return { ...c, close };
  };
  await until(() => hub.fleet.get('drone-001')?.status?.position, 'a status from the drone', 20_000);
  return { clock, hub, vehicle, logs, fields, dbPath, agent, startAgent, startCore };
}

/** `until` for an async probe. */
async function untilAsync<T>(probe: () => Promise<T | null | undefined | false>, what: string, realMs = 20_000): Promise<T> {
  const end = Date.now() + realMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${realMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function request(core: RunningCore, id: string): Promise<void> {
  const res = await fetch(`${core.url}/api/v1/deliveries/${id}`, {
    method: 'PUT', headers: { 'content-type': 'application/json', 'x-correlation-id': `corr-${id}` }, body: JSON.stringify({ pickup, dropoff }),
  });
  expect(res.status).toBe(202);
}

describe('dispatch reply, end to end (real hub, drone, core on SQLite)', () => {
  it('a flight controller that refuses the mission fails the delivery through the saga: Failed with the hub\'s reason, drone released', async () => {
    const m = await mini();
    // A failed motor: the flight controller refuses to arm, so the agent reports the mission refused.
    m.vehicle.setFault({ motorFailure: true });
    const core = await m.startCore();
    await request(core, 'e2e-refused');
    const d = await untilAsync(async () => {
      const got = await core.service.get('e2e-refused');
      return got.delivery.stage === 'Failed' ? got.delivery : null;
    }, `Failed (log: ${m.logs.slice(-4).join(' | ')})`, 60_000);
    expect(d.failureReason).toMatch(/^DLV_SAGA_MISSION_REJECTED: mission_rejected: AGENT_ERR_\w+: /);
    expect((await core.service.get('e2e-refused')).delivery.droneId).toBeNull();
    const saga = await untilAsync(async () => {
      const s = await core.service.records.getSaga('e2e-refused');
      return s?.status === 'failed' ? s : null;
    }, 'the saga failed (compensated)');
    expect(saga.error).toMatchObject({ step: 'await-hub-answer', code: 'DLV_SAGA_MISSION_REJECTED' });
    expect(await core.service.records.reservations()).toEqual([]);
    // The core alone decided: the hub, having refused, published no stage of its own for it.
    expect(m.logs.filter((l) => l.startsWith('tracking Delivery') && l.includes('e2e-refused'))).toEqual([]);
  }, 90_000);

  it('a drone that stays offline past the hub\'s limit is refused (drone_offline): the saga fails the delivery and frees the drone', async () => {
    const m = await mini({ dispatchOfflineLimitMs: 5_000 });
    const core = await m.startCore();
    await untilAsync(async () => ((await (await fetch(`${core.url}/api/v1/drones/drone-001`)).json()) as { state?: string }).state === 'available', 'the drone available at the core');
    await m.agent.stop();
    await until(() => m.hub.fleet.get('drone-001')?.online === false, 'the drone offline at the hub');
    await request(core, 'e2e-offline');
    const d = await untilAsync(async () => {
      const got = (await core.service.get('e2e-offline')).delivery;
      return got.stage === 'Failed' ? got : null;
    }, 'Failed', 60_000);
    expect(d.failureReason).toMatch(/^DLV_SAGA_MISSION_REJECTED: drone_offline: drone drone-001 offline for \d+ s$/);
    await untilAsync(async () => (await core.service.records.reservations()).length === 0, 'the drone released');
  }, 90_000);

  it('a customer cancel in flight: the hub publishes DeliveryCancelled with the correlationId, and the drone flies home (RTL)', async () => {
    const m = await mini();
    const core = await m.startCore();
    const stages: StageChange['stage'][] = [];
    core.service.onStageChange((d, c) => {
      if (d.id === 'e2e-cancel') stages.push(c.stage);
    });
    await request(core, 'e2e-cancel');
    await until(() => stages.includes('HeadedToPickup'), `headed to the pickup (stages: ${stages.join(' → ')})`, 60_000);
    const res = await fetch(`${core.url}/api/v1/deliveries/e2e-cancel`, { method: 'DELETE' });
    const body = (await res.json()) as { stage?: string };
    expect([res.status, body.stage]).toEqual([202, 'Cancelled']);
    // The hub's stage machine says why the mission ended (abortReason cancelled), for the stream.
    const line = 'tracking DeliveryCancelled delivery=e2e-cancel (cancelled by the customer)';
    await until(() => m.logs.includes(line), 'the hub\'s DeliveryCancelled').catch((err: unknown) => {
      throw new Error(`${String(err)}; hub log: ${m.logs.filter((l) => l.includes('e2e-cancel')).join(' | ')}`, { cause: err });
    });
    expect(m.fields.get(line)).toMatchObject({ droneId: 'drone-001', deliveryId: 'e2e-cancel', correlationId: 'corr-e2e-cancel', stage: 'Cancelled' });
    // Home again: RTL flown to the launch point, landed and disarmed.
    await until(() => {
      const v = m.vehicle.snapshot();
      return !v.armed && v.landedState === 1 && Math.hypot((v.position.lat - home.lat) * 111_320, (v.position.lon - home.lon) * 75_000) < 5;
    }, 'the drone home and disarmed', 60_000);
    expect(m.logs.some((l) => l.startsWith('tracking DeliveryCompleted delivery=e2e-cancel'))).toBe(false);
    expect((await core.service.get('e2e-cancel')).delivery.stage).toBe('Cancelled');
  }, 120_000);

  it('a core restarted while its saga waits for the hub (drone offline) resumes the wait; the drone comes back, the hub answers, the delivery completes by a real payload release', async () => {
    const m = await mini({ dispatchOfflineLimitMs: 3_600_000 });
    const core1 = await m.startCore();
    // The core has heard the drone and finds it available before it goes away.
    await untilAsync(async () => ((await (await fetch(`${core1.url}/api/v1/drones/drone-001`)).json()) as { state?: string }).state === 'available', 'the drone available at the core');
    // The drone drops off the network after reporting in: the assignment waits at the hub.
    await m.agent.stop();
    await until(() => m.hub.fleet.get('drone-001')?.online === false, 'the drone offline at the hub');
    await request(core1, 'e2e-restart');
    await untilAsync(async () => (await core1.service.records.getSaga('e2e-restart'))?.step === 4, 'the saga waiting for the hub\'s answer', 30_000);
    expect((await core1.service.get('e2e-restart')).delivery.stage).toBe('Requested');
    await core1.close();

    const core2 = await m.startCore();
    const stages: StageChange['stage'][] = [];
    core2.service.onStageChange((d, c) => {
      if (d.id === 'e2e-restart') stages.push(c.stage);
    });
    // Still waiting after the restart (the Supervisor resumed it): the drone is away.
    expect((await core2.service.records.getSaga('e2e-restart'))).toMatchObject({ status: 'running', step: 4 });
    await m.startAgent();
    await until(() => stages.includes('Completed') || stages.includes('Failed'), `an end (stages: ${stages.join(' → ')}; log: ${m.logs.slice(-4).join(' | ')})`, 90_000);
    expect(stages).toEqual(['Scheduled', 'HeadedToPickup', 'PickedUp', 'HeadedToDropoff', 'Completed']);
    expect(await core2.service.records.getSaga('e2e-restart')).toMatchObject({ status: 'completed' });
    // Completed by the gripper's release (DO_GRIPPER in the mission), not by the landing fallback.
    expect(m.logs.some((l) => l === 'tracking DeliveryCompleted delivery=e2e-restart (payload released at the dropoff)')).toBe(true);
    expect(m.hub.fleet.get('drone-001')?.status?.payload).toBe('released');
  }, 150_000);
});
