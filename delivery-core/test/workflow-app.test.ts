import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allNotifications, type NotificationMessage } from '../src/adapters/outbox-mqtt.js';
import { until } from '../../test-support/until.js';
import { coreConfig, startDeliveryCore, type RunningCore } from '../src/index.js';
import { startMosquitto, type RunningMosquitto } from '../../test-support/mosquitto.js';
import { startPostgres, type RunningPostgres } from '../../test-support/postgres.js';

const dir = mkdtempSync(join(tmpdir(), 'aerie-h6-app-'));
let broker: RunningMosquitto;
let postgres: RunningPostgres;
beforeAll(async () => {
  broker = await startMosquitto([{ username: 'core', password: 'core-pw', role: 'service' }]);
  postgres = await startPostgres();
});
afterAll(async () => {
  await broker?.stop();
  await postgres?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const body = { pickup: { lat: 47.399, lon: 8.547 }, dropoff: { lat: 47.401, lon: 8.55 } };
const put = (core: RunningCore, path: string, payload: object) =>
  fetch(`${core.url}${path}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });

/** The wired core (app.ts): deliveries and the workflow's tables in one database, across a restart. */
for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`startDeliveryCore on ${dialect}`, () => {
    it('keeps accounts, packages and sagas in the delivery database; a restart resumes the sagas it left', async () => {
      const db = dialect === 'sqlite' ? { dbPath: join(dir, 'core.sqlite') } : { databaseUrl: await postgres.createDatabase() };
      const config = coreConfig({ ...db, httpPort: 0, scheduleEveryMs: 50, mqtt: { url: broker.url, username: 'core', password: 'core-pw', clientId: `core-${dialect}` } });
      const listener = await mqtt.connectAsync(broker.url, { username: 'core', password: 'core-pw', clientId: `listener-${dialect}` });
      const notices: NotificationMessage[] = [];
      listener.on('message', (_t, p) => notices.push(JSON.parse(p.toString()) as NotificationMessage));
      await listener.subscribeAsync(allNotifications, { qos: 1 });
      const first = await startDeliveryCore(config, { log: () => undefined });
      try {
        expect((await put(first, '/api/v1/accounts/shop-1', { kind: 'business', name: 'Shop' })).status).toBe(201);
        expect((await put(first, '/api/v1/packages/piano', { size: 'large', weightKg: 40, owner: 'shop-1', deliveryId: 'heavy' })).status).toBe(201);
        expect((await put(first, '/api/v1/deliveries/heavy', { ...body, owner: 'shop-1' })).status).toBe(202);
        // The Supervisor begins the saga on its tick; no drone can carry 40 kg: Failed, with the reason.
        for (const end = Date.now() + 20_000; ;) {
          if (Date.now() > end) throw new Error('timed out waiting for the heavy delivery to fail');
          const d = await (await fetch(`${first.url}/api/v1/deliveries/heavy`)).json() as { stage: string; failureReason: string | null };
          if (d.stage === 'Failed') {
            expect(d.failureReason).toMatch(/^DLV_SAGA_NO_DRONE_FITS: /);
            break;
          }
          await new Promise((r) => setTimeout(r, 20));
        }
        // The customer's notice leaves through the outbox onto the bus.
        const notice = await until(() => notices.find((m) => m.eventId === 'heavy:failed'), 'the DeliveryFailed notice');
        expect(notice).toMatchObject({ type: 'DeliveryFailed', aggregateId: 'heavy', payload: { owner: 'shop-1', code: 'DLV_SAGA_NO_DRONE_FITS', step: 'reserve-drone' } });
        await listener.endAsync();
        expect((await put(first, '/api/v1/deliveries/light', body)).status).toBe(202);
      } finally {
        // Closed at once: `light`'s saga may or may not have begun.
        await first.close();
      }
      const second = await startDeliveryCore(config, { log: () => undefined });
      try {
        expect(await (await fetch(`${second.url}/api/v1/accounts/shop-1`)).json()).toMatchObject({ kind: 'business', name: 'Shop' });
        expect(await (await fetch(`${second.url}/api/v1/packages/piano`)).json()).toMatchObject({ weightKg: 40, deliveryId: null });
        expect(await second.service.records.getSaga('heavy')).toMatchObject({ status: 'failed', error: { code: 'DLV_SAGA_NO_DRONE_FITS' } });
        // No drone is heard from here: the resumed saga of `light` waits at the reserve step.
        expect(await second.service.records.getSaga('light')).toMatchObject({ status: 'running', step: 2, data: { packageId: 'pkg-light' } });
      } finally {
        await second.close();
      }
    });
  });
}

async function sagaWhere(core: RunningCore, id: string, ok: (s: { status: string; step: number } | null) => boolean, what: string) {
  for (const end = Date.now() + 20_000; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) {
    const saga = await core.service.records.getSaga(id);
    if (ok(saga)) return saga;
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('the saga settings in the core configuration', () => {
  it('refuses nonsense and reaches the running saga: an unregistered owner fails by default, passes with requireRegisteredAccount off', async () => {
    expect(() => coreConfig({ workflow: { hubReplyTimeoutMs: 0 } })).toThrow(/workflow\.hubReplyTimeoutMs/);
    expect(() => coreConfig({ workflow: { relayBatch: 1.5 } })).toThrow(/DLV_ERR_CONFIG|relayBatch/);
    const mqttOf = (clientId: string) => ({ url: broker.url, username: 'core', password: 'core-pw', clientId });
    const strict = await startDeliveryCore(coreConfig({ dbPath: join(dir, 'strict.sqlite'), httpPort: 0, mqtt: mqttOf('core-strict') }), { log: () => undefined });
    try {
      expect((await put(strict, '/api/v1/deliveries/ghost', { ...body, owner: 'nobody' })).status).toBe(202);
      expect(await sagaWhere(strict, 'ghost', (s) => s?.status === 'failed', 'the saga to fail at check-account')).toMatchObject({ error: { code: 'DLV_SAGA_ACCOUNT_UNKNOWN' } });
    } finally {
      await strict.close();
    }
    const open = await startDeliveryCore(coreConfig({
      dbPath: join(dir, 'open.sqlite'), httpPort: 0, mqtt: mqttOf('core-open'), workflow: { requireRegisteredAccount: false, hubReplyTimeoutMs: 7000 },
    }), { log: () => undefined });
    try {
      expect(open.service.workflow.options).toMatchObject({ requireRegisteredAccount: false, hubReplyTimeoutMs: 7000 });
      expect((await put(open, '/api/v1/deliveries/ghost', { ...body, owner: 'nobody' })).status).toBe(202);
      // Past check-account: the saga stands at the reserve step, waiting for a drone nobody flies here.
      expect(await sagaWhere(open, 'ghost', (s) => (s?.step ?? 0) >= 2, 'the saga to pass check-account')).toMatchObject({ status: 'running', data: { owner: 'nobody' } });
    } finally {
      await open.close();
    }
  });
});
