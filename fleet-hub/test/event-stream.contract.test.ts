import { mkdtempSync, appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileEventLog, MemoryEventStream } from '../src/index.js';
import { EVENT_LOG_INDEX_STRIDE } from '../src/adapters/file-event-log.js';
import { eventStreamContract, trackingEvent as event } from './event-stream-contract.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

// One behaviour suite (event-stream-contract.ts), run against the in-memory twin and the durable
// file log here, and against Event Hubs in eventhubs-event-stream.test.ts.
eventStreamContract('memory', () => Promise.resolve({ open: () => Promise.resolve(new MemoryEventStream()), durable: false, dispose: () => Promise.resolve() }));
eventStreamContract('file log', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aerie-events-'));
  return Promise.resolve({ open: () => FileEventLog.open(dir), durable: true, dispose: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })) });
});

describe('file event log', () => {
  it('hands out offsets in append order (one partition)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aerie-events-'));
    dirs.push(dir);
    const s = await FileEventLog.open(dir);
    const offsets = [];
    for (let i = 0; i < 5; i++) offsets.push(await s.append(event(i)));
    expect(offsets).toEqual([0, 1, 2, 3, 4]);
    expect((await s.read('a', 10)).map((e) => e.event.eventId)).toEqual(['evt-0', 'evt-1', 'evt-2', 'evt-3', 'evt-4']);
    await s.close();
  });

  it('keeps acknowledged events and consumer offsets across restarts, and drops a torn last write', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aerie-events-'));
    dirs.push(dir);
    const a = await FileEventLog.open(dir);
    for (let i = 0; i < 4; i++) await a.append(event(i));
    await a.commit('core', 1);
    await a.close();
    appendFileSync(join(dir, 'events.log'), '{"v":1,"eventId":"torn'); // a crash mid-append
    const b = await FileEventLog.open(dir);
    expect((await b.read('core', 10)).map((e) => e.event.eventId)).toEqual(['evt-2', 'evt-3']);
    expect(await b.append(event(9))).toBe(4);
    await b.close();
    const c = await FileEventLog.open(dir);
    expect((await c.read('new', 10)).map((e) => e.event.eventId)).toEqual(['evt-0', 'evt-1', 'evt-2', 'evt-3', 'evt-9']);
    await c.close();
  });
  // The soak's hubs grew by every tracking event they had published: the log held them all in memory.
  it('holds one byte position per stride in memory, not the events, and reads any offset back from the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aerie-events-'));
    dirs.push(dir);
    const n = 2 * EVENT_LOG_INDEX_STRIDE + 10;
    const a = await FileEventLog.open(dir);
    for (let i = 0; i < n; i++) await a.append(event(i));
    expect(a.indexSize).toBe(3);
    await a.commit('core', EVENT_LOG_INDEX_STRIDE + 3);
    const rest = await a.read('core', 1_000);
    expect(rest.map((e) => e.offset)).toEqual(Array.from({ length: n - EVENT_LOG_INDEX_STRIDE - 4 }, (_, i) => EVENT_LOG_INDEX_STRIDE + 4 + i));
    expect(rest[0]!.event).toEqual(event(EVENT_LOG_INDEX_STRIDE + 4));
    expect((await a.read('new', 2)).map((e) => e.event.eventId)).toEqual(['evt-0', 'evt-1']);
    await a.close();
    const b = await FileEventLog.open(dir);
    expect(b.indexSize).toBe(3);
    expect((await b.read('core', 1)).map((e) => e.event.eventId)).toEqual([`evt-${EVENT_LOG_INDEX_STRIDE + 4}`]);
    expect(await b.append(event(9_999))).toBe(n);
    expect((await b.read('core', 1_000)).at(-1)!.event.eventId).toBe('evt-9999');
    await b.close();
  });

  it('answers a read from the file: an event changed on disk is read back as it is there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aerie-events-'));
    dirs.push(dir);
    const s = await FileEventLog.open(dir);
    for (let i = 0; i < 3; i++) await s.append(event(i));
    const path = join(dir, 'events.log');
    writeFileSync(path, readFileSync(path, 'utf8').replace('"evt-1"', '"evt-X"')); // same length: offsets unchanged
    expect((await s.read('a', 10)).map((e) => e.event.eventId)).toEqual(['evt-0', 'evt-X', 'evt-2']);
    await s.close();
  });
});
