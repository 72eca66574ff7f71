import { describe, expect, it } from 'vitest';
import { IngestQueue } from '../src/domain/ingest-queue.js';

const buf = (s: string) => Buffer.from(s);
function drain(q: IngestQueue): string[] {
  const out: string[] = [];
  for (let m = q.take(); m; m = q.take()) out.push(`${m.droneId}:${m.channel}:${m.payload.toString()}`);
  return out;
}

describe('ingest queue: bounded, sheds statuses by policy, never reorders a drone', () => {
  it('keeps every status while under its bound, drains round-robin and per drone in order', () => {
    const q = new IngestQueue({ maxStatuses: 10, maxDrones: 10, maxEvents: 10 });
    for (const p of ['a1', 'a2', 'a3']) q.offerStatus('a', buf(p));
    q.offerStatus('b', buf('b1'));
    expect(drain(q)).toEqual(['a:status:a1', 'b:status:b1', 'a:status:a2', 'a:status:a3']);
    expect(q.stats()).toEqual({ pendingStatuses: 0, pendingEvents: 0, shedStatuses: 0, shedEvents: 0 });
  });

  it("past its bound replaces the drone's oldest pending status with the newest, and counts it", () => {
    const q = new IngestQueue({ maxStatuses: 2, maxDrones: 10, maxEvents: 10 });
    expect(q.offerStatus('a', buf('a1'))).toBe(false);
    expect(q.offerStatus('a', buf('a2'))).toBe(false);
    expect(q.offerStatus('a', buf('a3'))).toBe(true);
    // A drone with nothing pending still gets its one status in: every drone stays visible.
    expect(q.offerStatus('b', buf('b1'))).toBe(false);
    expect(q.stats()).toMatchObject({ pendingStatuses: 3, shedStatuses: 1 });
    expect(drain(q)).toEqual(['a:status:a2', 'b:status:b1', 'a:status:a3']);
  });

  it('holds no more than maxStatuses plus one per drone, whatever is offered', () => {
    const q = new IngestQueue({ maxStatuses: 100, maxDrones: 50, maxEvents: 10 });
    let shed = 0;
    for (let i = 0; i < 100_000; i++) if (q.offerStatus(`d${i % 60}`, buf(String(i)))) shed += 1;
    expect(q.stats().pendingStatuses).toBeLessThanOrEqual(150);
    expect(q.stats().pendingStatuses + q.stats().shedStatuses).toBe(100_000);
    expect(q.stats().shedStatuses).toBe(shed);
  });

  it('drains events first and in order; sheds and counts events only past maxEvents', () => {
    const q = new IngestQueue({ maxStatuses: 10, maxDrones: 10, maxEvents: 2 });
    q.offerStatus('a', buf('s'));
    expect(q.offerEvent('a', 'events', buf('e1'))).toBe(false);
    expect(q.offerEvent('b', 'online', buf('true'))).toBe(false);
    expect(q.offerEvent('a', 'events', buf('e3'))).toBe(true);
    expect(drain(q)).toEqual(['a:events:e1', 'b:online:true', 'a:status:s']);
    expect(q.stats().shedEvents).toBe(1);
  });
});
