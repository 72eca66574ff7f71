import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BufferedWriter } from '../src/domain/buffered-writer.js';
import { retryDelayMs, parseRetryAfter } from '../src/domain/backoff.js';
import { statusPoint } from '../src/domain/measurements.js';
import type { Point } from '../src/domain/point.js';
import { createMemoryWriter } from '../src/adapters/memory-writer.js';
import { createMemorySpill, openFileSpill } from '../src/adapters/file-spill.js';
import { createInfluxV1Writer } from '../src/adapters/influx-v1-writer.js';
import { createMemoryLogger } from '../src/adapters/stderr-logger.js';
import { ManualClock } from './helpers/manual-clock.js';
import { makeFlight } from './helpers/status.js';

const points = (n: number, droneId = 'drone-1', ts = 1_714_560_000_000): Point[] =>
  makeFlight(n, { droneId, ts }).map((s) => statusPoint(s, 'test'));
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));
const unavailable = (retryAfterMs: number | null = null) => ({ ok: false as const, retryable: true, status: 503, retryAfterMs, detail: 'unavailable' });

describe('retry timing', () => {
  it('waits a uniform random share of an exponentially growing cap, and never less than Retry-After', () => {
    const o = { baseMs: 100, maxMs: 1000 };
    expect(retryDelayMs(0, null, () => 1, o)).toBe(100);
    expect(retryDelayMs(3, null, () => 0.5, o)).toBe(400);
    expect(retryDelayMs(10, null, () => 1, o)).toBe(1000);
    expect(retryDelayMs(0, 5000, () => 1, o)).toBe(5000);
  });

  it('reads Retry-After as seconds or as an HTTP-date (RFC 9110 §10.2.3)', () => {
    expect(parseRetryAfter('3', 0)).toBe(3000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(10_000);
    expect(parseRetryAfter('soon', 0)).toBeNull();
    expect(parseRetryAfter(null, 0)).toBeNull();
  });
});

describe('BufferedWriter over the memory writer', () => {
  let clock: ManualClock;
  beforeEach(() => {
    clock = new ManualClock(0);
  });

  it('seals a batch at batchSize, and a partial one after flushIntervalMs', async () => {
    const db = createMemoryWriter();
    const w = new BufferedWriter({ writer: db, spill: createMemorySpill(), logger: createMemoryLogger(), clock, batchSize: 3, flushIntervalMs: 500 });
    w.write(points(7));
    await settle();
    expect(db.attempts).toBe(2);
    clock.advance(499);
    await settle();
    expect(db.attempts).toBe(2);
    clock.advance(1);
    await settle();
    expect(db.attempts).toBe(3);
    expect(w.stats()).toMatchObject({ accepted: 7, written: 7, pending: 0 });
  });

  it('durableUpTo (what the write-ahead log waits for) passes a point only once it is written or parked in the spill', async () => {
    const db = createMemoryWriter();
    const w = new BufferedWriter({ writer: db, spill: createMemorySpill(), logger: createMemoryLogger(), clock, batchSize: 3, flushIntervalMs: 500, maxBufferedPoints: 3, random: () => 0 });
    db.failNext(unavailable(1000));
    w.write(points(2));
    expect(w.durableUpTo()).toBe(0); // open batch
    w.write(points(1, 'drone-2'));
    expect(w.durableUpTo()).toBe(0); // sealed, in flight, then refused 503: back in the queue
    await settle();
    expect(w.durableUpTo()).toBe(0);
    w.write(points(3, 'drone-3')); // over maxBufferedPoints: parked in the spill at once
    await settle();
    expect(w.durableUpTo()).toBe(0); // the first batch still waits out its Retry-After
    clock.advance(1000);
    await settle();
    await settle();
    expect(w.durableUpTo()).toBe(6);
    w.write(points(1, 'drone-4'));
    expect(w.durableUpTo()).toBe(6);
    expect(await w.flush()).toBe(true);
    expect(w.durableUpTo()).toBe(7);
    expect(w.stats()).toMatchObject({ accepted: 7, written: 7, pending: 0 });
  });

  it('retries a 503 no sooner than its Retry-After, then writes', async () => {
    const db = createMemoryWriter();
    db.failNext(unavailable(5000));
    const w = new BufferedWriter({ writer: db, spill: createMemorySpill(), logger: createMemoryLogger(), clock, batchSize: 10, random: () => 0 });
    w.write(points(10));
    await settle();
    expect(w.stats()).toMatchObject({ written: 0, retries: 1, pending: 10 });
    clock.advance(4999);
    await settle();
    expect(db.attempts).toBe(1);
    clock.advance(1);
    await settle();
    expect(w.stats()).toMatchObject({ written: 10, retries: 1, pending: 0 });
  });

  it('never retries a 400: counts the points as rejected and logs the refused line', async () => {
    const db = createMemoryWriter();
    const line = 'drone_status,drone_id=x lat="oops" 1';
    db.failNext({ ok: false, retryable: false, status: 400, retryAfterMs: null, detail: `unable to parse '${line}': invalid field format` });
    const logger = createMemoryLogger();
    const w = new BufferedWriter({ writer: db, spill: createMemorySpill(), logger, clock, batchSize: 4 });
    w.write(points(4));
    await settle();
    clock.advance(60_000);
    await settle();
    expect(db.attempts).toBe(1);
    expect(w.stats()).toMatchObject({ accepted: 4, written: 0, rejected: 4, pending: 0, retries: 0 });
    expect(logger.lines.join('\n')).toContain('code=TEL_ERR_WRITE_REJECTED');
    expect(logger.lines.join('\n')).toContain(JSON.stringify(line));
  });

  it('spills past maxBufferedPoints while the database is down, then replays everything', async () => {
    const db = createMemoryWriter();
    db.failNext(...Array.from({ length: 5 }, () => unavailable()));
    const spill = createMemorySpill();
    const w = new BufferedWriter({ writer: db, spill, logger: createMemoryLogger(), clock, batchSize: 10, maxBufferedPoints: 20, maxInFlight: 1 });
    w.write(points(100));
    await settle();
    expect(spill.size()).toBeGreaterThanOrEqual(80);
    for (let i = 0; i < 50 && w.stats().pending > 0; i++) {
      clock.advance(10_000);
      await settle();
    }
    expect(w.stats()).toMatchObject({ accepted: 100, written: 100, rejected: 0, dropped: 0, pending: 0 });
    expect(db.points()).toHaveLength(100);
  });

  it('counts what a full spill could not take as dropped, keeping accepted = written + rejected + dropped + pending', async () => {
    const db = createMemoryWriter();
    db.failNext(...Array.from({ length: 100 }, () => unavailable()));
    const w = new BufferedWriter({ writer: db, spill: createMemorySpill(30), logger: createMemoryLogger(), clock, batchSize: 10, maxBufferedPoints: 10 });
    w.write(points(100));
    await settle();
    const s = w.stats();
    expect(s.dropped).toBeGreaterThan(0);
    expect(s.accepted).toBe(s.written + s.rejected + s.dropped + s.pending);
  });
});

describe('BufferedWriter spill on disk', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'aerie-spill-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('parks what close() could not write and replays it when the next writer starts', async () => {
    const clock = new ManualClock(0);
    const down = createMemoryWriter();
    down.failNext(...Array.from({ length: 1000 }, () => unavailable()));
    const first = new BufferedWriter({ writer: down, spill: openFileSpill(dir), logger: createMemoryLogger(), clock, batchSize: 25 });
    first.write(points(100));
    const closing = first.close(1000);
    clock.advance(1000);
    await closing;
    expect(openFileSpill(dir).size()).toBe(100);

    const up = createMemoryWriter();
    const second = new BufferedWriter({ writer: up, spill: openFileSpill(dir), logger: createMemoryLogger() });
    expect(await second.flush(10_000)).toBe(true);
    expect(up.points()).toHaveLength(100);
    expect(openFileSpill(dir).size()).toBe(0);
    await second.close();
  });
});

describe('influx-v1 writer outcomes from an HTTP server', () => {
  it('reads 429 + Retry-After as retryable, 400 as final', async () => {
    const answers = [{ status: 429, headers: { 'retry-after': '2' } }, { status: 400, headers: {} }];
    const srv = createServer((req, res) => {
      req.resume();
      const a = answers.shift()!;
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
      res.end('{"error":"nope"}');
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    try {
      const w = createInfluxV1Writer({ url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, database: 'x' });
      expect(await w.write(points(1))).toMatchObject({ ok: false, retryable: true, status: 429, retryAfterMs: 2000 });
      expect(await w.write(points(1))).toMatchObject({ ok: false, retryable: false, status: 400, detail: '{"error":"nope"}' });
    } finally {
      srv.close();
    }
  });

  it('reads a refused connection as retryable', async () => {
    const w = createInfluxV1Writer({ url: 'http://127.0.0.1:1', database: 'x' });
    expect(await w.write(points(1))).toMatchObject({ ok: false, retryable: true, status: null });
  });
});
