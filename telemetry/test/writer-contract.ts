import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Point } from '../src/domain/point.js';
import { statusPoint } from '../src/domain/measurements.js';
import type { TelemetryWriter } from '../src/ports.js';
import { makeFlight } from './helpers/status.js';

/** A numeric field of one drone's drone_status points, as the database under test reads it back. */
// VictoriaMetrics refuses samples older than its retention (1 month by default): recent, whole seconds.
const BASE_TS = Math.floor(Date.now() / 1000) * 1000 - 3600_000;

export type ReadBack = (droneId: string, field: string) => Promise<{ ts: number; value: number }[]>;

export interface WriterUnderTest {
  writer: TelemetryWriter;
  readBack: ReadBack;
  teardown(): Promise<void>;
}

/**
 * What every TelemetryWriter keeps, run against the real database behind it (writer.test.ts):
 * points arrive with the drone's timestamps, a replay overwrites, big (gzip) batches arrive whole.
 * Each test writes its own drone, so the suite shares one server.
 */
export function describeWriterContract(name: string, setup: () => Promise<WriterUnderTest>): void {
  describe(`TelemetryWriter contract: ${name}`, () => {
    let t: WriterUnderTest;
    beforeAll(async () => {
      t = await setup();
    });
    afterAll(async () => {
      await t?.writer.close();
      await t?.teardown();
    });
    const flight = (droneId: string, n: number): Point[] =>
      makeFlight(n, { droneId, ts: BASE_TS }).map((s) => statusPoint(s, 'test'));

    it('stores every point at the drone’s own timestamp', async () => {
      const points = flight('drone-a', 20);
      expect(await t.writer.write(points)).toEqual({ ok: true });
      const rows = await t.readBack('drone-a', 'lon');
      expect(rows.map((r) => r.ts)).toEqual(points.map((p) => p.tsMs));
      // VictoriaMetrics compresses floats to about 12 significant digits; 1e-9° is 0.1 mm.
      expect(rows.map((r) => r.value)).toEqual(points.map((p): unknown => expect.closeTo(p.fields.lon as number, 9)));
    });

    it('overwrites instead of duplicating when a batch is written twice (a replay)', async () => {
      const points = flight('drone-b', 10);
      expect(await t.writer.write(points)).toEqual({ ok: true });
      expect(await t.writer.write(points)).toEqual({ ok: true });
      expect(await t.readBack('drone-b', 'lat')).toHaveLength(10);
    });

    it('takes a batch large enough to be gzip-compressed', async () => {
      const points = flight('drone-c', 3000);
      expect(await t.writer.write(points)).toEqual({ ok: true });
      expect(await t.readBack('drone-c', 'speed')).toHaveLength(3000);
    });

    it('answers an empty batch with success', async () => {
      expect(await t.writer.write([])).toEqual({ ok: true });
    });
  });
}
