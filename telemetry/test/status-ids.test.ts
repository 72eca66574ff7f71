import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInfluxV1Writer } from '../src/adapters/influx-v1-writer.js';
import { statusPoint } from '../src/domain/measurements.js';
import { influxQuery, startInfluxDB, type RunningInfluxDB } from '../../test-support/influxdb.js';
import { makeStatus } from './helpers/status.js';

// bench:faults accounts for every DroneStatus by (droneId, bootId, seq) read back from InfluxDB.
describe('drone_status ids in InfluxDB 1.6.7', () => {
  let influx: RunningInfluxDB;
  beforeAll(async () => {
    influx = await startInfluxDB();
    await influxQuery(influx.url, '', 'CREATE DATABASE aerie');
  });
  afterAll(async () => {
    await influx?.destroy();
  });

  it('stores seq as an integer field and boot_id as a string field, with one series per drone', async () => {
    const writer = createInfluxV1Writer({ url: influx.url, database: 'aerie' });
    const points = [0, 1, 2].map((seq) => statusPoint(makeStatus({ droneId: 'd-ids', bootId: 'boot-1', seq, ts: 1_714_560_000_000 + seq * 200 }), 'f'));
    expect(await writer.write(points)).toEqual({ ok: true });
    const keys = await influxQuery(influx.url, 'aerie', 'SHOW FIELD KEYS FROM drone_status');
    const types: Record<string, unknown> = Object.fromEntries((keys[0]?.values ?? []).map((r) => [String(r[0]), r[1]]));
    expect(types).toMatchObject({ seq: 'integer', boot_id: 'string', sats: 'float' });
    const series = await influxQuery(influx.url, 'aerie', "SHOW SERIES FROM drone_status WHERE drone_id = 'd-ids'");
    expect(series[0]?.values).toHaveLength(1);
  });

  it('a replayed status (same drone, bootId, seq, ts) overwrites its point: stored once', async () => {
    const writer = createInfluxV1Writer({ url: influx.url, database: 'aerie' });
    const statuses = [0, 1, 2, 3].map((seq) => makeStatus({ droneId: 'd-replay', bootId: 'boot-r', seq, ts: 1_714_560_100_000 + seq * 200 }));
    expect(await writer.write(statuses.map((s) => statusPoint(s, 'f')))).toEqual({ ok: true });
    // The spool's replay after an outage, and a QoS 1 redelivery, resend the same messages.
    expect(await writer.write(statuses.slice(1, 3).map((s) => statusPoint(s, 'f')))).toEqual({ ok: true });
    const rows = await influxQuery(influx.url, 'aerie', "SELECT seq, boot_id FROM drone_status WHERE drone_id = 'd-replay'");
    expect(rows[0]?.values.map((r) => [r[1], r[2]])).toEqual([[0, 'boot-r'], [1, 'boot-r'], [2, 'boot-r'], [3, 'boot-r']]);
  });
});
