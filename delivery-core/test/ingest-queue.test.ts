import { appendFileSync, closeSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileLogQueue, MemoryIngestQueue, MemoryLog } from '../src/index.js';
import { ingestQueueContract } from './ingest-queue-contract.js';

const root = mkdtempSync(join(tmpdir(), 'aerie-ingest-queue-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const newDir = () => join(root, `q${++n}`);

ingestQueueContract('memory', () => new MemoryLog(), (log) => new MemoryIngestQueue(log));
ingestQueueContract('file log', newDir, (dir) => new FileLogQueue(dir, { segmentBytes: 256 }));

const rec = (k: number) => Buffer.from(JSON.stringify({ i: `r${k}` }));
const segments = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.log')).sort();

describe('FileLogQueue on disk', () => {
  it('zeroes a torn tail (half a frame, or a frame whose CRC does not match) and appends after the last whole record', async () => {
    for (const torn of [Buffer.from([40, 0, 0, 0, 1, 2]), Buffer.concat([Buffer.from([4, 0, 0, 0, 9, 9, 9, 9]), Buffer.from('junk')])]) {
      const dir = newDir();
      const a = new FileLogQueue(dir, { segmentBytes: 4096 });
      await a.open(0);
      const ends = await Promise.all([0, 1, 2].map((k) => a.append(rec(k))));
      await a.close();
      // Segments are written full of zeros before use: the crash's half-written group lands after the last record.
      const file = join(dir, segments(dir)[0]!);
      expect(statSync(file).size).toBe(4096);
      const fd = openSync(file, 'r+');
      writeSync(fd, torn, 0, torn.length, ends[2]);
      closeSync(fd);
      const b = new FileLogQueue(dir, { segmentBytes: 4096 });
      expect((await b.open(0)).map((r) => r.end)).toEqual(ends);
      expect(readFileSync(file).subarray(ends[2]).every((x) => x === 0)).toBe(true);
      const next = await b.append(rec(3));
      await b.close();
      const c = new FileLogQueue(dir, { segmentBytes: 4096 });
      expect((await c.open(ends[2]!)).map((r) => JSON.parse(r.payload.toString()) as unknown)).toEqual([{ i: 'r3' }]);
      expect(next).toBeGreaterThan(ends[2]!);
      await c.close();
    }
  });

  it('rolls segments past segmentBytes and deletes those wholly consumed', async () => {
    const dir = newDir();
    const q = new FileLogQueue(dir, { segmentBytes: 100 });
    await q.open(0);
    const ends: number[] = [];
    for (let k = 0; k < 30; k++) ends.push(await q.append(rec(k)));
    const before = segments(dir);
    expect(before.length).toBeGreaterThan(3);
    await q.consumed(ends[29]!);
    // The open segment stays; every one before it is gone.
    expect(segments(dir)).toEqual([before.at(-1)]);
    await q.close();
    const again = new FileLogQueue(dir, { segmentBytes: 100 });
    expect(await again.open(ends[29]!)).toEqual([]);
    await again.close();
  });

  it('refuses to start on a damaged record before the last segment (not a torn tail)', async () => {
    const dir = newDir();
    const q = new FileLogQueue(dir, { segmentBytes: 60 });
    await q.open(0);
    for (let k = 0; k < 10; k++) await q.append(rec(k));
    await q.close();
    appendFileSync(join(dir, segments(dir)[0]!), Buffer.from([200, 0, 0, 0]));
    await expect(new FileLogQueue(dir, { segmentBytes: 60 }).open(0)).rejects.toThrow(/damaged/);
  });
});
