import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAsync } from 'mqtt';
import { encodeMessage, topics } from '@aerie/contracts';
import { startTelemetry } from '../src/app.js';
import { defineConfig } from '../src/config.js';
import type { TelemetryConfigInput } from '../src/config.js';
import { createMemoryLogger } from '../src/adapters/stderr-logger.js';
import { influxQuery, startInfluxDB, type RunningInfluxDB } from '../../test-support/influxdb.js';
import { until } from '../../test-support/until.js';
import { startBroker } from './helpers/broker.js';
import type { TestBroker } from './helpers/broker.js';
import { makeFlight } from './helpers/status.js';

/** MQTT in, time-series store, history API out: once with InfluxDB configured, once without. */
describe('startTelemetry with a time-series store', () => {
  let broker: TestBroker;
  let influx: RunningInfluxDB;
  let dir: string;
  beforeAll(async () => {
    broker = await startBroker();
    influx = await startInfluxDB();
    await influxQuery(influx.url, '', 'CREATE DATABASE aerie');
    dir = mkdtempSync(join(tmpdir(), 'aerie-tel-ts-'));
  });
  afterAll(async () => {
    await broker?.close();
    await influx?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const cases: [string, (droneId: string) => Partial<TelemetryConfigInput>, string][] = [
    ['InfluxDB 1.6.7 (v1 write, InfluxQL history)', () => ({ influx: { url: influx.url, database: 'aerie' } }), 'influxql'],
    ['no InfluxDB: the embedded store', (id) => ({ dbPath: join(dir, id, 'telemetry.sqlite') }), 'embedded'],
  ];
  for (const [name, extra, source] of cases) {
    it(`${name}: statuses become drone_status points and the history API answers from that store`, async () => {
      const droneId = `drone-${source}`;
      const config = defineConfig({ mqttUrl: broker.url, clientId: `tel-${source}`, dbPath: ':memory:', httpPort: 0, fleet: 'test', ...extra(droneId) });
      const app = await startTelemetry(config, { logger: createMemoryLogger() });
      try {
        await app.ingest.whenSubscribed();
        const t0 = Date.now() - 60_000;
        const pub = await connectAsync(broker.url, { protocolVersion: 4, clientId: `pub-${source}`, reconnectPeriod: 0 });
        for (const s of makeFlight(20, { droneId, ts: t0 })) await pub.publishAsync(topics.status(droneId), encodeMessage(s), { qos: 1 });
        const deliveryId = `dl-${source}`;
        const tracking = (stage: string, ts: number, eta: number | null) => encodeMessage({
          v: 1, eventId: `${deliveryId}-${stage}`, type: `Delivery${stage}`, deliveryId, droneId, stage, ts, location: null, eta,
        });
        await pub.publishAsync(topics.tracking(deliveryId), tracking('HeadedToDropoff', t0 + 1000, t0 + 3000), { qos: 1 });
        await pub.publishAsync(topics.tracking(deliveryId), tracking('Completed', t0 + 2800, null), { qos: 1 });
        await pub.publishAsync(topics.events(droneId), encodeMessage({ v: 1, droneId, bootId: 'boot-a', seq: 1, ts: t0 + 500, kind: 'failsafe_raised', severity: 2, text: 'battery failsafe' }), { qos: 1 });
        await pub.publishAsync(topics.events(droneId), 'not json', { qos: 1 });
        await pub.endAsync();
        await until(() => app.writer.stats().written === 23, 'all 23 points written');
        expect(app.ingest.stats().events).toEqual({ received: 4, accepted: 3, rejected: { CONTRACT_ERR_NOT_JSON: 1 } });
        const dl = (await (await fetch(`http://127.0.0.1:${app.port}/api/v1/deliveries/${deliveryId}/track`)).json()) as { droneId: string; toMs: number; points: unknown[] };
        expect(dl).toMatchObject({ droneId, toMs: t0 + 2800 });
        expect(dl.points).toHaveLength(10);

        const base = `http://127.0.0.1:${app.port}`;
        const track = (await (await fetch(`${base}/api/v1/history/drones/${droneId}/track?from=${t0}&to=${t0 + 10_000}`)).json()) as { source: string; points: { ts: number }[] };
        expect(track.source).toBe(source);
        expect(track.points.map((p) => p.ts)).toEqual(Array.from({ length: 20 }, (_, i) => t0 + i * 200));
        const fleet = (await (await fetch(`${base}/api/v1/fleet?at=${t0 + 10_000}`)).json()) as { drones: { droneId: string; state: string; point: { ts: number } }[] };
        expect(fleet.drones.map((d) => [d.droneId, d.state, d.point.ts])).toEqual([[droneId, 'flying', t0 + 19 * 200]]);
        const none = await fetch(`${base}/api/v1/deliveries/dl-none/track`);
        expect(none.status).toBe(404);
        expect(await none.json()).toMatchObject({ code: 'TEL_ERR_NO_DATA' });
        expect((await fetch(`${base}/api/v1/fleet?at=yesterday`)).status).toBe(400);
        expect(await (await fetch(`${base}/healthz`)).json()).toMatchObject({ timeseries: { store: source, accepted: 23, written: 23, pending: 0 } });
      } finally {
        await app.close();
      }
    });
  }
});
