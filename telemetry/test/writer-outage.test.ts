import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BufferedWriter } from '../src/domain/buffered-writer.js';
import { statusPoint } from '../src/domain/measurements.js';
import { createInfluxV1Writer } from '../src/adapters/influx-v1-writer.js';
import { createInfluxV2Writer } from '../src/adapters/influx-v2-writer.js';
import { openFileSpill } from '../src/adapters/file-spill.js';
import { createMemoryLogger } from '../src/adapters/stderr-logger.js';
import { influxQuery, startInfluxDB, type RunningInfluxDB } from '../../test-support/influxdb.js';
import { until } from '../../test-support/until.js';
import { startVictoriaMetrics, victoriaExport } from '../../test-support/victoria-metrics.js';
import { makeFlight } from './helpers/status.js';

const count = async (url: string, droneId: string): Promise<number> => {
  const s = await influxQuery(url, 'aerie', `SELECT count("lat") FROM drone_status WHERE drone_id = '${droneId}'`);
  return (s[0]?.values[0]?.[1] as number | undefined) ?? 0;
};

describe('BufferedWriter against a real InfluxDB 1.6.7', () => {
  let influx: RunningInfluxDB;
  let dir: string;
  beforeAll(async () => {
    influx = await startInfluxDB();
    await influxQuery(influx.url, '', 'CREATE DATABASE aerie');
    dir = mkdtempSync(join(tmpdir(), 'aerie-outage-'));
  });
  afterAll(async () => {
    await influx?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses nothing across a server outage: spills while it is down, replays when it is back, no duplicates', async () => {
    const logger = createMemoryLogger();
    const w = new BufferedWriter({
      writer: createInfluxV1Writer({ url: influx.url, database: 'aerie', timeoutMs: 2000 }),
      spill: openFileSpill(join(dir, 'spill')),
      logger, batchSize: 200, flushIntervalMs: 50, maxBufferedPoints: 400,
      backoff: { baseMs: 50, maxMs: 300 },
    });
    const flight = makeFlight(3000, { droneId: 'drone-out', ts: 1_714_560_000_000 }).map((s) => statusPoint(s, 'test'));
    w.write(flight.slice(0, 1000));
    expect(await w.flush(20_000)).toBe(true);
    await influx.stop();
    w.write(flight.slice(1000, 2500));
    await until(() => w.stats().retries > 0 && w.stats().spilled > 0, 'a failed write and a spilled batch');
    await influx.start();
    w.write(flight.slice(2500));
    expect(await w.flush(30_000)).toBe(true);
    expect(w.stats()).toMatchObject({ accepted: 3000, written: 3000, rejected: 0, dropped: 0, pending: 0 });
    expect(await count(influx.url, 'drone-out')).toBe(3000);
    // The same points again (an agent replaying its buffer): they overwrite.
    w.write(flight.slice(0, 500));
    expect(await w.flush(20_000)).toBe(true);
    expect(await count(influx.url, 'drone-out')).toBe(3000);
    await w.close();
  });

  it('counts a field type conflict as rejected without retrying, and keeps the good points of the batch', async () => {
    const logger = createMemoryLogger();
    const w = new BufferedWriter({
      writer: createInfluxV1Writer({ url: influx.url, database: 'aerie' }),
      spill: openFileSpill(join(dir, 'spill-2')), logger, batchSize: 10,
    });
    const flight = makeFlight(10, { droneId: 'drone-bad', ts: 1_714_570_000_000 }).map((s) => statusPoint(s, 'test'));
    const bad = { ...flight[3]!, fields: { ...flight[3]!.fields, lat: 'not a number' } };
    w.write([...flight.slice(0, 3), bad, ...flight.slice(4)]);
    expect(await w.flush(20_000)).toBe(true);
    expect(w.stats()).toMatchObject({ accepted: 10, written: 9, rejected: 1, retries: 0 });
    expect(await count(influx.url, 'drone-bad')).toBe(9);
    expect(logger.lines.join('\n')).toMatch(/code=TEL_ERR_WRITE_REJECTED .*status=400 .*field type conflict/);
    await w.close();
  });
});

describe('BufferedWriter over the v2 write API (influxdb-client) against a real VictoriaMetrics', () => {
  it('loses nothing across a server outage and keeps one sample per timestamp after the replay', async () => {
    const vm = await startVictoriaMetrics();
    const dir = mkdtempSync(join(tmpdir(), 'aerie-outage-v2-'));
    try {
      const w = new BufferedWriter({
        writer: createInfluxV2Writer({ url: vm.url, token: 'unused', org: 'aerie', bucket: 'aerie', timeoutMs: 2000 }),
        spill: openFileSpill(join(dir, 'spill')), logger: createMemoryLogger(), batchSize: 200, flushIntervalMs: 50,
        maxBufferedPoints: 200, backoff: { baseMs: 50, maxMs: 300 },
      });
      // VictoriaMetrics refuses samples older than its retention: recent, whole seconds.
      const t0 = Math.floor(Date.now() / 1000) * 1000 - 3600_000;
      const flight = makeFlight(1000, { droneId: 'drone-v2', ts: t0 }).map((s) => statusPoint(s, 'test'));
      w.write(flight.slice(0, 300));
      expect(await w.flush(20_000)).toBe(true);
      await vm.stop();
      w.write(flight.slice(300, 800));
      await until(() => w.stats().retries > 0 && w.stats().spilled > 0, 'a failed write and a spilled batch');
      await vm.start();
      w.write(flight.slice(800));
      w.write(flight.slice(0, 100));
      expect(await w.flush(30_000)).toBe(true);
      expect(w.stats()).toMatchObject({ accepted: 1100, written: 1100, rejected: 0, dropped: 0, pending: 0 });
      await w.close();
      const series = await victoriaExport(vm.url, '{__name__="drone_status_lat",drone_id="drone-v2"}');
      expect(series[0]?.timestamps.length).toBe(1000);
    } finally {
      await vm.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
