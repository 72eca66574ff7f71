import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInfluxV1Writer } from '../src/adapters/influx-v1-writer.js';
import { createInfluxV2Writer } from '../src/adapters/influx-v2-writer.js';
import { openEmbeddedWriter } from '../src/adapters/embedded-writer.js';
import { createMemoryWriter } from '../src/adapters/memory-writer.js';
import { influxQuery, startInfluxDB } from '../../test-support/influxdb.js';
import { startVictoriaMetrics, victoriaExport } from '../../test-support/victoria-metrics.js';
import { describeWriterContract } from './writer-contract.js';

describeWriterContract('InfluxDB 1.6.7 /write (v1)', async () => {
  const influx = await startInfluxDB();
  await influxQuery(influx.url, '', 'CREATE DATABASE aerie');
  return {
    writer: createInfluxV1Writer({ url: influx.url, database: 'aerie', gzipThresholdBytes: 1000 }),
    async readBack(droneId, field) {
      const s = await influxQuery(influx.url, 'aerie', `SELECT "${field}" FROM drone_status WHERE drone_id = '${droneId}'`);
      return (s[0]?.values ?? []).map(([ts, v]) => ({ ts: ts as number, value: v as number }));
    },
    teardown: () => influx.destroy(),
  };
});

describeWriterContract('VictoriaMetrics /api/v2/write (v2 client)', async () => {
  const vm = await startVictoriaMetrics();
  return {
    writer: createInfluxV2Writer({ url: vm.url, token: 'unused', org: 'aerie', bucket: 'aerie', gzipThresholdBytes: 1000 }),
    async readBack(droneId, field) {
      // VictoriaMetrics names an InfluxDB field `<measurement>_<field>` and keeps tags as labels.
      const series = await victoriaExport(vm.url, `{__name__="drone_status_${field}",drone_id="${droneId}"}`);
      const s = series[0];
      if (s === undefined) return [];
      return s.timestamps.map((ts, i) => ({ ts, value: s.values[i]! })).sort((a, b) => a.ts - b.ts);
    },
    teardown: () => vm.destroy(),
  };
});

describeWriterContract('embedded SQLite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aerie-tel-emb-'));
  const writer = openEmbeddedWriter(join(dir, 'points.sqlite'));
  return Promise.resolve({
    writer,
    readBack(droneId, field) {
      return Promise.resolve(writer.query('drone_status', { drone_id: droneId }, 0, Number.MAX_SAFE_INTEGER)
        .map((p) => ({ ts: p.tsMs, value: p.fields[field] as number })));
    },
    teardown() {
      rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    },
  });
});

describeWriterContract('memory', () => {
  const writer = createMemoryWriter();
  return Promise.resolve({
    writer,
    readBack(droneId, field) {
      return Promise.resolve(writer.points().filter((p) => p.tags.drone_id === droneId).map((p) => ({ ts: p.tsMs, value: p.fields[field] as number })));
    },
    teardown: () => Promise.resolve(),
  });
});
