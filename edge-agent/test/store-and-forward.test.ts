import { describe, expect, it } from 'vitest';
import type { DroneEvent, DroneStatus } from '@aerie/contracts';
import { MemorySpool, MemoryUplink, SpoolingUplink } from '../src/index.js';
import { until } from '../../test-support/until.js';

const status = (seq: number): DroneStatus => ({ seq } as unknown as DroneStatus);
const event = (seq: number): DroneEvent => ({ seq, kind: 'link_lost' } as unknown as DroneEvent);

describe('store and forward around an uplink', () => {
  it('queues during an outage, drains in order after it while live data keeps flowing, and nothing is lost', async () => {
    const inner = new MemoryUplink();
    const spool = new MemorySpool({ maxBytes: 1e6, statusMaxAgeMs: 1e9, eventMaxAgeMs: 1e9 });
    const up = new SpoolingUplink(inner, spool);
    up.publishStatus(status(0));
    inner.setConnected(false);
    // The drain is triggered by the reconnect itself; hold it until live traffic has gone out.
    for (let i = 1; i <= 50; i++) up.publishStatus(status(i));
    up.publishEvent(event(0));
    expect(spool.length).toBe(51);
    expect(inner.statuses.map((s) => s.seq)).toEqual([0]);

    inner.setConnected(true);
    up.publishStatus(status(51));
    await until(() => spool.length === 0, 'the backlog to drain');
    for (let i = 52; i < 55; i++) up.publishStatus(status(i));

    const seqs = inner.statuses.map((s) => s.seq);
    // Backlog in order, live interleaved, and by (bootId, seq) the set is complete.
    const backlog = seqs.filter((s) => s >= 1 && s <= 50);
    expect(backlog).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect([...new Set(seqs)].sort((a, b) => a - b)).toEqual(Array.from({ length: 55 }, (_, i) => i));
    expect(inner.events.map((e) => e.seq)).toEqual([0]);
    expect(spool.stats).toMatchObject({ appended: 51, forwarded: 51 });
    await up.close();
  });

  it('keeps a record when the broker does not confirm it, and sends it on the next connection', async () => {
    const inner = new MemoryUplink();
    const spool = new MemorySpool({ maxBytes: 1e6, statusMaxAgeMs: 1e9, eventMaxAgeMs: 1e9 });
    const up = new SpoolingUplink(inner, spool);
    inner.setConnected(false);
    up.publishEvent(event(7));
    const confirm = inner.publishConfirmed.bind(inner);
    let refuse = true;
    inner.publishConfirmed = (k, b) => (refuse ? Promise.resolve(false) : confirm(k, b));
    inner.setConnected(true);
    await up.drain();
    expect(spool.length).toBe(1);
    refuse = false;
    inner.setConnected(false);
    inner.setConnected(true);
    await until(() => spool.length === 0, 'the retry');
    expect(inner.events.map((e) => e.seq)).toEqual([7]);
    await up.close();
  });
});
