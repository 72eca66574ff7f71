import { describe, expect, it } from 'vitest';
import { Deduplicator, OutboxRelay, RecentIds, type EventPublisher, type OutboxEvent, type OutboxSource } from '../src/domain/outbox.js';
import { begin, type OutboxDraft } from '../src/domain/saga.js';
import { MemoryWorkflowStore } from '../src/workflow/memory-store.js';
import { ManualClock } from './workflow-helpers.js';

const draft = (id: string): OutboxDraft => ({ id, type: 'DeliveryScheduled', aggregateId: 'd1', payload: { id } });

/** Events written the way the saga writes them: with a state change, in one save. */
async function storeWith(ids: string[]): Promise<MemoryWorkflowStore> {
  const store = new MemoryWorkflowStore();
  let s = begin('t', 's1', {}, 0);
  await store.createSaga(s);
  for (const id of ids) {
    s = { ...s, version: s.version + 1 };
    expect(await store.saveSaga(s, [draft(id)])).toBe(true);
  }
  return store;
}

describe('outbox', () => {
  it('an event id is stored once, even when a retried save repeats it', async () => {
    const store = await storeWith(['e1', 'e2']);
    const s = await store.getSaga('s1');
    await store.saveSaga({ ...s!, version: s!.version + 1 }, [draft('e2'), draft('e3')]);
    expect((await store.unsent(10)).map((e) => e.id)).toEqual(['e1', 'e2', 'e3']);
  });

  it('a stale save writes neither the state nor its events', async () => {
    const store = await storeWith(['e1']);
    const s = await store.getSaga('s1');
    expect(await store.saveSaga({ ...s!, version: s!.version }, [draft('lost')])).toBe(false);
    expect((await store.unsent(10)).map((e) => e.id)).toEqual(['e1']);
  });

  it('the relay publishes in order and marks sent; a failing publisher stops the pass and the next one resumes', async () => {
    const clock = new ManualClock();
    const store = await storeWith(['e1', 'e2', 'e3']);
    const got: string[] = [];
    let down = true;
    const publisher: EventPublisher = {
      publish: (e) => {
        if (e.id === 'e2' && down) return Promise.reject(new Error('broker down'));
        got.push(e.id);
        return Promise.resolve();
      },
    };
    const errors: unknown[] = [];
    const relay = new OutboxRelay(store, publisher, clock, { everyMs: 100, batch: 10 }, (e) => errors.push(e));
    expect(await relay.relayOnce()).toBe(1);
    expect((await store.unsent(10)).map((e) => e.id)).toEqual(['e2', 'e3']);
    down = false;
    relay.start();
    await clock.advance(100);
    await relay.stop();
    expect(got).toEqual(['e1', 'e2', 'e3']);
    expect(await store.unsent(10)).toEqual([]);
    expect(errors).toHaveLength(1);
  });

  it('a crash between publish and mark-sent publishes again; the consumer handles each event id exactly once', async () => {
    const clock = new ManualClock();
    const store = await storeWith(['e1', 'e2', 'e3']);
    const handled: string[] = [];
    const consumer = new Deduplicator(new RecentIds(), (e) => {
      handled.push(e.id);
    });
    const publisher: EventPublisher = { publish: (e) => consumer.deliver(e) };
    // The first process publishes everything, then dies before marking anything sent.
    const dying: OutboxSource = { unsent: (n) => store.unsent(n), markSent: () => Promise.reject(new Error('process died')) };
    await expect(new OutboxRelay(dying, publisher, clock).relayOnce()).rejects.toThrow('process died');
    expect((await store.unsent(10)).length).toBe(3);
    // The next process relays the same events again.
    const relay = new OutboxRelay(store, publisher, clock);
    expect(await relay.drain()).toBe(3);
    expect(handled).toEqual(['e1', 'e2', 'e3']);
    expect(consumer.stats).toEqual({ handled: 3, duplicates: 3 });
    expect(await store.unsent(10)).toEqual([]);
  });

  it('a consumer whose handler throws gets the event again rather than losing it', async () => {
    let fail = true;
    const handled: string[] = [];
    const consumer = new Deduplicator(new RecentIds(), (e: OutboxEvent) => {
      if (fail) throw new Error('busy');
      handled.push(e.id);
    });
    const e: OutboxEvent = { ...draft('e1'), seq: 1, createdAt: 0 };
    await expect(consumer.deliver(e)).rejects.toThrow('busy');
    fail = false;
    await consumer.deliver(e);
    await consumer.deliver(e);
    expect(handled).toEqual(['e1']);
  });

  it('RecentIds keeps a bounded window of the newest ids', async () => {
    const ids = new RecentIds(2);
    for (const id of ['a', 'b', 'c']) await ids.add(id);
    expect([await ids.has('a'), await ids.has('b'), await ids.has('c')]).toEqual([false, true, true]);
  });
});
