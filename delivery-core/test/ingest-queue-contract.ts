import { describe, expect, it } from 'vitest';
import type { IngestQueue } from '../src/index.js';

const rec = (k: number) => Buffer.from(JSON.stringify({ i: `r${k}`, pad: 'x'.repeat(k % 7) }));
const ids = (rs: { payload: Buffer }[]) => rs.map((r) => (JSON.parse(r.payload.toString()) as { i: string }).i);

/**
 * One behaviour suite for every IngestQueue (the MQTT.js abstract_store pattern). `storage`
 * makes a fresh place to keep a queue; `open` a queue over it — a second `open` of the same
 * storage is the process after a restart.
 */
export function ingestQueueContract<S>(name: string, storage: () => S, open: (s: S) => IngestQueue): void {
  describe(`IngestQueue contract: ${name}`, () => {
    it('appends in order, one group per turn, with growing end positions', async () => {
      const q = open(storage());
      expect(await q.open(0)).toEqual([]);
      const ends = await Promise.all(Array.from({ length: 50 }, (_, k) => q.append(rec(k))));
      for (let k = 1; k < ends.length; k++) expect(ends[k]!).toBeGreaterThan(ends[k - 1]!);
      await q.close();
    });

    it('after a restart gives back exactly the records past the consumer position, and appends after them', async () => {
      const s = storage();
      const a = open(s);
      await a.open(0);
      const ends = await Promise.all(Array.from({ length: 10 }, (_, k) => a.append(rec(k))));
      await a.close();
      const b = open(s);
      expect(b.id).toBe(a.id);
      const back = await b.open(ends[3]!);
      expect(ids(back)).toEqual(['r4', 'r5', 'r6', 'r7', 'r8', 'r9']);
      expect(back.map((r) => r.end)).toEqual(ends.slice(4));
      const next = await b.append(rec(10));
      expect(next).toBeGreaterThan(ends[9]!);
      await b.close();
      const c = open(s);
      expect(ids(await c.open(ends[9]!))).toEqual(['r10']);
      expect(await c.open(next).then(() => true)).toBe(true);
      await c.close();
    });

    it('consumed records are not given back; a position past the log end moves the next append there', async () => {
      const s = storage();
      const a = open(s);
      await a.open(0);
      const ends: number[] = [];
      for (let k = 0; k < 40; k++) ends.push(await a.append(rec(k)));
      await a.consumed(ends[29]!);
      await a.close();
      const b = open(s);
      expect(ids(await b.open(ends[29]!))).toEqual(Array.from({ length: 10 }, (_, k) => `r${30 + k}`));
      await b.close();
      // The database says more was consumed than the log holds (a log lost or moved): nothing is re-read, nothing is skipped later.
      const c = open(s);
      const far = ends[39]! + 10_000;
      expect(await c.open(far)).toEqual([]);
      expect(await c.append(rec(99))).toBeGreaterThan(far);
      await c.close();
    });

    it('refuses appends before open and after close', async () => {
      const q = open(storage());
      await expect(q.append(rec(0))).rejects.toThrow();
      await q.open(0);
      await q.close();
      await expect(q.append(rec(1))).rejects.toThrow();
    });
  });
}
