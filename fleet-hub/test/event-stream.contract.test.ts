import { mkdtempSync, appendFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileEventLog, MemoryEventStream } from '../src/index.js';
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
});
