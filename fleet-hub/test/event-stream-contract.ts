import { describe, expect, it } from 'vitest';
import type { DeliveryTracking } from '@aerie/contracts';
import type { EventStream, StoredEvent } from '../src/index.js';

export const trackingEvent = (n: number, deliveryId = `dlv-${n % 3}`): DeliveryTracking => ({
  v: 1, eventId: `evt-${n}`, type: 'EtaUpdated', deliveryId, droneId: 'drone-001', stage: 'HeadedToPickup', ts: 1_700_000_000_000 + n,
  location: null, eta: null, correlationId: `corr-${deliveryId}`,
});

export interface StreamFixture {
  /** Opens the stream on the fixture's storage; a second call reopens the same storage. */
  open(): Promise<EventStream>;
  /** Whether events and commits survive a close and reopen. */
  durable: boolean;
  dispose(): Promise<void>;
}

const ids = (events: readonly StoredEvent[]) => events.map((e) => e.event.eventId);

/** Each delivery's events in append order, whatever the interleaving across partitions. */
function perDelivery(events: readonly StoredEvent[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const e of events) (out[e.event.deliveryId] ??= []).push(e.event.eventId);
  return out;
}

/**
 * The event-stream port's behaviour, run once per adapter (MQTT.js abstract_store style). Order is
 * promised per delivery only: a partitioned stream (Event Hubs, partition key = deliveryId) has no
 * order across partitions, and a commit covers the committed event's partition.
 */
export function eventStreamContract(name: string, fixture: () => Promise<StreamFixture>): void {
  const withStream = async (fn: (s: EventStream, f: StreamFixture) => Promise<void>) => {
    const f = await fixture();
    const s = await f.open();
    try {
      await fn(s, f);
    } finally {
      await s.close();
      await f.dispose();
    }
  };

  describe(`EventStream contract: ${name}`, () => {
    it('reads every appended event once, each delivery in append order, with unique offsets', () => withStream(async (s) => {
      for (let i = 0; i < 6; i++) await s.append(trackingEvent(i));
      const all = await s.read('a', 100);
      expect(ids(all).sort()).toEqual(['evt-0', 'evt-1', 'evt-2', 'evt-3', 'evt-4', 'evt-5']);
      expect(perDelivery(all)).toEqual({ 'dlv-0': ['evt-0', 'evt-3'], 'dlv-1': ['evt-1', 'evt-4'], 'dlv-2': ['evt-2', 'evt-5'] });
      expect(new Set(all.map((e) => e.offset)).size).toBe(6);
      expect(ids(await s.read('a', 100))).toEqual(ids(all)); // nothing committed, nothing consumed
    }));

    it('each consumer resumes after its own commits, and an older commit never moves it back', () => withStream(async (s) => {
      for (let i = 0; i < 6; i++) await s.append(trackingEvent(i));
      const first = await s.read('core', 2);
      expect(first).toHaveLength(2);
      for (const e of first) await s.commit('core', e.offset);
      const rest = await s.read('core', 100);
      expect(ids(rest).sort()).toEqual(ids(await s.read('dashboard', 100)).filter((id) => !ids(first).includes(id)).sort());
      expect(rest).toHaveLength(4);
      await s.commit('core', first[0]!.offset);
      expect(ids(await s.read('core', 100))).toEqual(ids(rest));
    }));

    it('keeps the correlationId of every event', () => withStream(async (s) => {
      await s.append(trackingEvent(7, 'dlv-x'));
      const [e] = await s.read('c', 1);
      expect(e?.event.correlationId).toBe('corr-dlv-x');
      expect(e?.event).toEqual(trackingEvent(7, 'dlv-x'));
    }));

    it('after a reopen keeps the events and each consumer\'s position (durable adapters)', async () => {
      const f = await fixture();
      try {
        const a = await f.open();
        for (let i = 0; i < 4; i++) await a.append(trackingEvent(i));
        const handled = await a.read('core', 2);
        for (const e of handled) await a.commit('core', e.offset);
        await a.close();
        const b = await f.open();
        try {
          const left = await b.read('core', 100);
          if (!f.durable) {
            expect(left).toEqual([]); // a fresh in-memory stream: nothing survives, by design
            return;
          }
          expect(ids(left).sort()).toEqual(['evt-0', 'evt-1', 'evt-2', 'evt-3'].filter((id) => !ids(handled).includes(id)));
          await b.append(trackingEvent(9));
          expect(ids(await b.read('new', 100)).sort()).toEqual(['evt-0', 'evt-1', 'evt-2', 'evt-3', 'evt-9']);
        } finally {
          await b.close();
        }
      } finally {
        await f.dispose();
      }
    });
  });
}
