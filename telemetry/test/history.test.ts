import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEmbeddedWriter } from '../src/adapters/embedded-writer.js';
import { createEmbeddedHistory } from '../src/adapters/embedded-history.js';
import { createInfluxqlHistory } from '../src/adapters/influxql-history.js';
import { createInfluxV1Writer } from '../src/adapters/influx-v1-writer.js';
import type { HistoryReader, TelemetryWriter } from '../src/ports.js';
import { influxQuery, startInfluxDB } from '../../test-support/influxdb.js';
import { simulatedAfternoon } from './helpers/flight.js';

const END = Date.UTC(2026, 0, 15, 12, 0, 0);
const START = END - 30 * 60_000;
const at = (s: number): number => START + s * 1000;

/** One history API from either store: the same flight written through each, the same answers. */
function describeHistoryContract(name: string, setup: () => Promise<{ writer: TelemetryWriter; reader: HistoryReader; teardown(): Promise<void> }>): void {
  describe(`HistoryReader contract: ${name}`, () => {
    let reader: HistoryReader;
    let teardown: () => Promise<void>;
    beforeAll(async () => {
      const s = await setup();
      const points = simulatedAfternoon(END);
      for (let i = 0; i < points.length; i += 5000) expect(await s.writer.write(points.slice(i, i + 5000))).toEqual({ ok: true });
      reader = s.reader;
      teardown = async () => {
        await s.writer.close();
        await s.teardown();
      };
    });
    afterAll(() => teardown?.());

    it("answers a drone's track over a range, oldest first, within the limit", async () => {
      const all = await reader.droneTrack('drone-1', START, END, 10_000);
      expect(all).toHaveLength(1800);
      expect(all[0]).toMatchObject({ ts: START, altRel: 0, flightMode: 'HOLD', landedState: 'ON_GROUND', armed: false });
      expect(all.map((p) => p.ts)).toEqual([...all.map((p) => p.ts)].sort((a, b) => a - b));
      const window = await reader.droneTrack('drone-1', at(100), at(109), 5);
      expect(window.map((p) => p.ts)).toEqual([100, 101, 102, 103, 104].map(at));
      expect(window[0]).toMatchObject({ altRel: 60, groundSpeed: 10, flightMode: 'MISSION', landedState: 'IN_AIR', armed: true });
      expect(await reader.droneTrack('drone-9', START, END, 10)).toEqual([]);
    });

    it("answers a delivery's track: its drone over the delivery's life", async () => {
      const done = await reader.deliveryTrack('dl-1', END, 10_000);
      expect(done).toMatchObject({ deliveryId: 'dl-1', droneId: 'drone-1', fromMs: at(0), toMs: at(720) });
      expect(done?.stages.map((s) => s.stage)).toEqual(['Scheduled', 'PickedUp', 'HeadedToDropoff', 'Completed']);
      expect(done?.points).toHaveLength(721);
      const underway = await reader.deliveryTrack('dl-2', END, 10_000);
      expect(underway).toMatchObject({ droneId: 'drone-2', fromMs: at(10), toMs: END });
      expect(await reader.deliveryTrack('dl-404', END, 10)).toBeNull();
    });

    it('answers the fleet at an instant: each drone’s newest point no later than it', async () => {
      const fleet = await reader.fleetAt(at(1000) + 500, 60_000);
      expect(fleet.map((m) => [m.droneId, m.state, m.point.ts])).toEqual([
        ['drone-1', 'returning', at(1000)],
        ['drone-2', 'flying', at(1000)],
        ['drone-3', 'idle', at(1000)],
      ]);
      expect(await reader.fleetAt(START - 1, 60_000)).toEqual([]);
    });
  });
}

describeHistoryContract('InfluxDB 1.6.7 over InfluxQL', async () => {
  const influx = await startInfluxDB();
  await influxQuery(influx.url, '', 'CREATE DATABASE aerie');
  return {
    writer: createInfluxV1Writer({ url: influx.url, database: 'aerie' }),
    reader: createInfluxqlHistory({ url: influx.url, database: 'aerie' }),
    teardown: () => influx.destroy(),
  };
});

describeHistoryContract('embedded SQLite', () => {
  const store = openEmbeddedWriter(':memory:');
  return Promise.resolve({ writer: store, reader: createEmbeddedHistory(store), teardown: () => Promise.resolve() });
});

describe('embedded store retention and downsampling', () => {
  it('keeps recent points raw, averages older ones into buckets, deletes past keepMs', async () => {
    const store = openEmbeddedWriter(':memory:');
    await store.write(simulatedAfternoon(END));
    const history = createEmbeddedHistory(store);
    // Raw for the last 10 minutes, 1-minute buckets before that, nothing older than 25 minutes.
    const r = store.applyRetention(END, { rawMs: 10 * 60_000, bucketMs: 60_000, keepMs: 25 * 60_000 });
    expect(r.deleted).toBeGreaterThan(0);
    const track = await history.droneTrack('drone-2', START, END, 10_000);
    const old = track.filter((p) => p.ts < END - 10 * 60_000);
    const recent = track.filter((p) => p.ts >= END - 10 * 60_000);
    expect(recent).toHaveLength(600);
    expect(old.length).toBe(15);
    expect(old.every((p) => p.ts % 60_000 === 0)).toBe(true);
    expect(Math.min(...track.map((p) => p.ts))).toBeGreaterThanOrEqual(END - 25 * 60_000);
    // A bucket is the mean of its minute: drone-2 drains 1/40 % per second.
    const minute = old[0]!;
    const raw = simulatedAfternoon(END).filter((p) => p.tags.drone_id === 'drone-2' && p.measurement === 'drone_status' && p.tsMs >= minute.ts && p.tsMs < minute.ts + 60_000);
    const mean = raw.reduce((s, p) => s + (p.fields.battery_pct as number), 0) / raw.length;
    expect(minute.batteryPct).toBeCloseTo(mean, 9);
    // Applying it again changes nothing already downsampled.
    expect(store.applyRetention(END, { rawMs: 10 * 60_000, bucketMs: 60_000, keepMs: 25 * 60_000 })).toEqual({ deleted: 0, downsampled: 0 });
    await store.close();
  });
});
