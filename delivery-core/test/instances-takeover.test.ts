import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import pg from 'pg';
import {
  decodeMessage, DELIVERY_STAGES, encodeMessage, subscriptions, topics,
  type DeliveryStage, type DeliveryTracking, type DispatchReply,
} from '@aerie/contracts';
import { startMosquitto } from '../../test-support/mosquitto.js';
import { freePort } from '../../test-support/servers.js';
import { until } from '../../test-support/until.js';
import { droneStatus } from '../../test-support/fixtures.js';
import { body, restartablePostgres, root, startCore, waitReadyz, type CoreChild } from './shutdown-helpers.js';

// Issue 8, scale-out: two aerie-core processes (node dist/main.js) on one PostgreSQL and one
// Debian Mosquitto, tracking events through a shared subscription, sagas under per-instance
// leases. One is killed (SIGKILL) while its sagas wait for the hub's answer: the other takes them
// over once their leases expire and completes them; the killed one comes back under its name (as
// a StatefulSet pod does) and takes the tracking events the broker kept for its session.
// The hub here is a small one speaking the real wire protocol (assignment in, DispatchReply and
// DeliveryTracking out), holding its answers until the test lets it, so the kill lands mid-saga.

const LEASE_MS = 2000;
const DRONES = 12;
const PER_CORE = 6;
const FINAL = new Set<DeliveryStage>(['Completed', 'Cancelled', 'Failed']);
const rank = (s: DeliveryStage) => DELIVERY_STAGES.indexOf(s);

/** test-support's until with an async probe (a query): polls until it resolves truthy, bounded. */
async function untilAsync(probe: () => Promise<boolean>, what: string, realMs: number): Promise<void> {
  const end = Date.now() + realMs;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`timed out after ${realMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The hub: drones on status, a mission per 'fly' assignment, its answer and stages once let go. */
async function fakeHub(url: string) {
  const c = await mqtt.connectAsync(url, { username: 'hub', password: 'hub-pw', clientId: 'takeover-hub' });
  const fly = new Map<string, number>(); // delivery → 'fly' assignments seen
  const flownBy = new Map<string, Set<string>>(); // delivery → drones accepted for it
  const busy = new Map<string, string>(); // drone → delivery it flies now
  const flown = new Set<string>();
  const doubleBooked: string[] = [];
  const published: DeliveryTracking[] = [];
  const pending: (() => void)[] = [];
  let answering = false;
  const ids = Array.from({ length: DRONES }, (_, k) => `drone-${String(k + 1).padStart(3, '0')}`);
  const statuses = setInterval(() => {
    for (const [k, droneId] of ids.entries()) {
      const s = droneStatus({ droneId, seq: Date.now(), ts: Date.now(), position: { lat: 47.399 + k * 1e-4, lon: 8.547, altMsl: 488, altRel: 0 } });
      c.publish(topics.status(droneId), encodeMessage(s), { qos: 0 });
    }
  }, 500);
  const mission = async (deliveryId: string, droneId: string) => {
    const reply: DispatchReply = { v: 1, deliveryId, droneId, ts: Date.now(), commandId: `cmd-${deliveryId}`, outcome: 'accepted' };
    await c.publishAsync(topics.dispatchReply(deliveryId), encodeMessage(reply), { qos: 1 });
    // A repeat (a re-sent or re-published assignment) is answered again and flown once, as fleet-hub does.
    if (flown.has(deliveryId)) return;
    flown.add(deliveryId);
    busy.set(droneId, deliveryId);
    for (const stage of ['HeadedToPickup', 'PickedUp', 'HeadedToDropoff', 'Completed'] as const) {
      await new Promise((r) => setTimeout(r, 150));
      const e: DeliveryTracking = {
        v: 1, eventId: `${deliveryId}:${stage}`, type: stage === 'Completed' ? 'DeliveryCompleted' : stage === 'PickedUp' ? 'PackagePickedUp' : `Delivery${stage}`,
        deliveryId, droneId, stage, ts: Date.now(), location: { lat: 47.4, lon: 8.548, altRel: 30 }, eta: null,
      };
      published.push(e);
      await c.publishAsync(topics.tracking(deliveryId), encodeMessage(e), { qos: 1 });
    }
    busy.delete(droneId);
  };
  c.on('message', (topic, payload) => {
    if (payload.length === 0) return;
    const d = decodeMessage('DeliveryAssignment', payload);
    if (!d.ok || d.value.action !== 'fly') return;
    const { deliveryId, droneId } = d.value;
    fly.set(deliveryId, (fly.get(deliveryId) ?? 0) + 1);
    const other = busy.get(droneId);
    if (other !== undefined && other !== deliveryId) doubleBooked.push(`${droneId}: ${other} and ${deliveryId}`);
    flownBy.set(deliveryId, (flownBy.get(deliveryId) ?? new Set()).add(droneId));
    const go = () => void mission(deliveryId, droneId);
    if (answering) go();
    else pending.push(go);
  });
  await c.subscribeAsync(subscriptions.allAssignments, { qos: 1 });
  return {
    fly, flownBy, doubleBooked, published,
    answer: () => {
      answering = true;
      for (const go of pending.splice(0)) go();
    },
    close: async () => {
      clearInterval(statuses);
      await c.endAsync();
    },
  };
}

describe('two aerie-core instances on one PostgreSQL and Mosquitto', () => {
  const stops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  });

  it('a SIGKILLed instance\'s sagas are taken over by the other; every delivery ends once, no drone twice, no stage backwards', async () => {
    const broker = await startMosquitto([{ username: 'core', password: 'core-pw', role: 'service' }, { username: 'hub', password: 'hub-pw', role: 'service' }]);
    stops.push(() => broker.stop());
    const postgres = await restartablePostgres();
    const db = new pg.Client({ connectionString: postgres.url });
    await db.connect();
    stops.push(() => db.end());
    const hub = await fakeHub(broker.url);
    stops.push(() => hub.close());

    const core = async (name: string): Promise<CoreChild> => {
      const dataDir = join(root, `takeover-${name}`);
      mkdirSync(dataDir, { recursive: true });
      const c = startCore(dataDir, await freePort(), broker.url, {
        DATABASE_URL: postgres.url, AERIE_CORE_MQTT_USERNAME: 'core', AERIE_CORE_MQTT_PASSWORD: 'core-pw',
        AERIE_CORE_MQTT_CLIENT_ID: name, AERIE_CORE_INSTANCE_ID: name, AERIE_CORE_MQTT_SHARE_GROUP: 'aerie-core',
        AERIE_CORE_SAGA_LEASE_MS: String(LEASE_MS), AERIE_CORE_HUB_REPLY_TIMEOUT_MS: '8000', AERIE_CORE_HOLD_MS: '0',
      });
      await waitReadyz(c.base, 200, `${name} start`);
      return c;
    };
    const [a, b] = [await core('core-a'), await core('core-b')];
    const create = async (c: CoreChild, id: string) => {
      const res = await fetch(`${c.base}/api/v1/deliveries/${id}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status).toBe(202);
    };
    const ids = Array.from({ length: PER_CORE }, (_, k) => [`via-a-${k}`, `via-b-${k}`]).flat();
    for (const [k, id] of ids.entries()) await create(k % 2 === 0 ? a : b, id);

    // Every saga dispatched; the hub holds its answers, so each waits in await-hub-answer.
    await until(() => ids.every((id) => hub.fly.has(id)), 'every delivery dispatched', 30_000);
    const ownedByA = (await db.query<{ saga_id: string }>(`SELECT l.saga_id FROM saga_leases l JOIN sagas s ON s.id = l.saga_id
      WHERE l.owner = 'core-a' AND s.status = 'running'`)).rows.map((r) => r.saga_id);
    expect(ownedByA.length).toBeGreaterThan(0);
    // One dispatch per delivery: no saga was driven by both instances.
    expect([...hub.fly.entries()].filter(([, n]) => n !== 1)).toEqual([]);

    a.child.kill('SIGKILL');
    await a.exited;
    hub.answer();
    // The survivor ends the sagas of the dead one, under its own lease, once the dead one's expired:
    // completed, or failed with DLV_SAGA_DELIVERY_ENDED where the hub's tracking had already
    // completed the delivery (no failure notice; the delivery stays Completed, checked below).
    await untilAsync(async () => {
      const r = await db.query<{ n: string }>(`SELECT count(*) AS n FROM sagas s JOIN saga_leases l ON l.saga_id = s.id
        WHERE s.id = ANY($1) AND l.owner = 'core-b'
          AND (s.status = 'completed' OR (s.status = 'failed' AND s.error LIKE '%DLV_SAGA_DELIVERY_ENDED%'))`, [ownedByA]);
      return Number(r.rows[0]!.n) === ownedByA.length;
    }, 'core-b completed core-a\'s sagas', 30_000);

    const completedBeforeReturn = Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM deliveries WHERE stage = 'Completed'`)).rows[0]!.n);
    // core-a comes back under its name (a StatefulSet pod) and takes what the broker kept for its session.
    const a2 = await core('core-a');
    await untilAsync(async () => {
      const r = await db.query<{ n: string }>(`SELECT count(*) AS n FROM deliveries WHERE stage = 'Completed'`);
      return Number(r.rows[0]!.n) === ids.length;
    }, 'every delivery Completed', 30_000);

    const history = (await db.query<{ delivery_id: string; stage: DeliveryStage; event_id: string }>(
      'SELECT delivery_id, stage, event_id FROM stage_history ORDER BY seq')).rows;
    for (const id of ids) {
      const stages = history.filter((h) => h.delivery_id === id).map((h) => h.stage);
      // Forward only, each stage once, one final stage.
      expect(stages, id).toEqual([...stages].sort((x, y) => rank(x) - rank(y)));
      expect(new Set(stages).size, id).toBe(stages.length);
      expect(stages.filter((s) => FINAL.has(s)), id).toEqual(['Completed']);
      expect(hub.flownBy.get(id)?.size, id).toBe(1);
    }
    expect(hub.doubleBooked).toEqual([]);
    // Every tracking event the hub sent was applied at most once; none is left unapplied but one
    // a later stage of its delivery overtook (its instance was down: stages only move forward).
    const applied = new Set(history.map((h) => h.event_id));
    const skipped = hub.published.filter((e) => !applied.has(e.eventId));
    for (const e of skipped) {
      const later = history.find((h) => h.delivery_id === e.deliveryId && rank(h.stage) > rank(e.stage));
      expect(later, e.eventId).toBeDefined();
    }
    console.log(`takeover: ${ownedByA.length} sagas of core-a taken over; ${hub.published.length} tracking events, ${hub.published.length - skipped.length} applied, ${skipped.length} overtaken; ${completedBeforeReturn} of ${ids.length} Completed before core-a came back`);
    for (const c of [a2, b]) {
      c.child.kill('SIGTERM');
      expect(await c.exited).toBe(0);
    }
  }, 120_000);
});
