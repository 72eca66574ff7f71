import { describe, expect, it } from 'vitest';
import type { DeliveryRepository, Delivery } from '../src/index.js';

export function newDelivery(id: string, createdAt = 1000): Delivery {
  return {
    id, owner: 'shop-1', pickup: { lat: 47.399, lon: 8.547 }, dropoff: { lat: 47.401, lon: 8.55 }, stage: 'Requested', droneId: null, eta: null,
    lastPosition: null, correlationId: `corr-${id}`, createdAt, updatedAt: createdAt, failureReason: null, etaAtDispatch: null, etaAtHalfway: null,
    window: { pickupFrom: null, pickupBy: null, deadline: null }, route: null, abortedDroneId: null,
  };
}

/** One behaviour suite for every DeliveryRepository (the MQTT.js abstract_store pattern). */
export function repositoryContract(name: string, make: () => DeliveryRepository | Promise<DeliveryRepository>): void {
  describe(`DeliveryRepository contract: ${name}`, () => {
    it('inserts once; a second insert of the id is refused', async () => {
      const r = await make();
      expect(await r.insert(newDelivery('d1'), { stage: 'Requested', at: 1000, eventId: 'd1:r' })).toBe(true);
      expect(await r.insert(newDelivery('d1'), { stage: 'Requested', at: 1001, eventId: 'd1:r2' })).toBe(false);
      expect(await r.get('d1')).toEqual(newDelivery('d1'));
      expect(await r.get('nope')).toBeNull();
      await r.close();
    });

    it('advances with history, dedupes by event id, keeps fields on null patches', async () => {
      const r = await make();
      await r.insert(newDelivery('d1'), { stage: 'Requested', at: 1000, eventId: 'd1:r' });
      expect(await r.advance('d1', { stage: 'Scheduled', at: 2000, eventId: 'e1' }, { droneId: 'drone-001', eta: 90_000 })).toBe(true);
      expect(await r.advance('d1', { stage: 'Scheduled', at: 2000, eventId: 'e1' }, { droneId: 'drone-009' })).toBe(false);
      expect(await r.advance('d1', { stage: 'HeadedToPickup', at: 3000, eventId: 'e2' }, { lastPosition: { lat: 1, lon: 2, altRel: 3 } })).toBe(true);
      const d = await r.get('d1');
      expect(d).toMatchObject({ stage: 'HeadedToPickup', droneId: 'drone-001', eta: 90_000, lastPosition: { lat: 1, lon: 2, altRel: 3 }, updatedAt: 3000 });
      expect((await r.history('d1')).map((h) => h.stage)).toEqual(['Requested', 'Scheduled', 'HeadedToPickup']);
      await r.update('d1', { etaAtHalfway: 95_000 }, 3500);
      expect(await r.advance('d1', { stage: 'Failed', at: 3600, eventId: 'e2b' }, { etaAtDispatch: 80_000 })).toBe(true);
      expect(await r.get('d1')).toMatchObject({ etaAtDispatch: 80_000, etaAtHalfway: 95_000 });
      await r.advance('d1', { stage: 'Cancelled', at: 4000, eventId: 'e3' }, { eta: null });
      expect((await r.get('d1'))?.eta).toBeNull();
      await r.close();
    });

    it('lists by stage, oldest first, with a limit', async () => {
      const r = await make();
      await r.insert(newDelivery('b', 2000), { stage: 'Requested', at: 2000, eventId: 'b:r' });
      await r.insert(newDelivery('a', 1000), { stage: 'Requested', at: 1000, eventId: 'a:r' });
      await r.insert(newDelivery('c', 3000), { stage: 'Requested', at: 3000, eventId: 'c:r' });
      await r.advance('c', { stage: 'Scheduled', at: 3500, eventId: 'c:s' }, { droneId: 'x' });
      expect((await r.listByStage(['Requested'], 10)).map((d) => d.id)).toEqual(['a', 'b']);
      expect((await r.listByStage(['Requested', 'Scheduled'], 2)).map((d) => d.id)).toEqual(['a', 'b']);
      expect((await r.listByStage(['Scheduled'], 10)).map((d) => d.id)).toEqual(['c']);
      await r.close();
    });

    it('group-commits a batch: each item says whether it was new, duplicates inside the batch included', async () => {
      const r = await make();
      await r.insert(newDelivery('old'), { stage: 'Requested', at: 1000, eventId: 'old:r' });
      const res = await r.insertMany(['x', 'old', 'y', 'x'].map((id, k) => ({ delivery: newDelivery(id), first: { stage: 'Requested', at: 1000, eventId: `${id}:r:${k}` } })));
      expect(res).toEqual([true, false, true, false]);
      expect(await r.history('x')).toHaveLength(1);
      await r.close();
    });

    it('reschedules only in the stages allowed, atomically', async () => {
      const r = await make();
      await r.insert(newDelivery('d1'), { stage: 'Requested', at: 1000, eventId: 'd1:r' });
      expect(await r.reschedule('d1', { dropoff: { lat: 1, lon: 2 } }, ['Requested'], 1500)).toBe(true);
      expect(await r.get('d1')).toMatchObject({ dropoff: { lat: 1, lon: 2 }, pickup: newDelivery('d1').pickup, updatedAt: 1500 });
      await r.advance('d1', { stage: 'HeadedToPickup', at: 2000, eventId: 'd1:h' }, {});
      expect(await r.reschedule('d1', { dropoff: { lat: 3, lon: 4 } }, ['Requested', 'Scheduled'], 2500)).toBe(false);
      expect((await r.get('d1'))?.dropoff).toEqual({ lat: 1, lon: 2 });
      expect(await r.reschedule('nope', { dropoff: { lat: 3, lon: 4 } }, ['Requested'], 2500)).toBe(false);
      await r.close();
    });

    it('keeps the window, the route and the aborted drone; a reschedule with replan goes back to Requested in one write (issue 7)', async () => {
      const r = await make();
      const window = { pickupFrom: 5_000, pickupBy: 9_000, deadline: 20_000 };
      await r.insert({ ...newDelivery('w'), window }, { stage: 'Requested', at: 1000, eventId: 'w:r' });
      expect(await r.get('w')).toEqual({ ...newDelivery('w'), window });
      const route = { droneId: 'drone-1', from: { lat: 47.39, lon: 8.54 }, toPickup: [{ lat: 47.395, lon: 8.541 }], toDropoff: [], toHome: [{ lat: 47.4, lon: 8.55 }] };
      await r.update('w', { route }, 1500);
      expect(await r.get('w')).toMatchObject({ route, window, updatedAt: 1500 });
      expect(await r.advance('w', { stage: 'Scheduled', at: 2000, eventId: 'w:s' }, { droneId: 'drone-1', eta: 30_000, etaAtDispatch: 30_000 })).toBe(true);
      // Only the window changes; the rest of the row stays.
      const later = { pickupFrom: 6_000, pickupBy: null, deadline: null };
      expect(await r.reschedule('w', { window: later }, ['Scheduled'], 2500)).toBe(true);
      expect(await r.get('w')).toMatchObject({ stage: 'Scheduled', droneId: 'drone-1', route, window: later });
      // Back to planning: drone, ETA and route cleared, the stage recorded, the aborted drone kept.
      const back = { stage: 'Requested' as const, at: 3000, eventId: 'w:rescheduled:3000' };
      expect(await r.reschedule('w', { dropoff: { lat: 1, lon: 2 }, route: null, abortedDroneId: 'drone-1' }, ['Scheduled'], 3000, back)).toBe(true);
      expect(await r.get('w')).toMatchObject({
        stage: 'Requested', droneId: null, eta: null, etaAtDispatch: null, route: null, abortedDroneId: 'drone-1', dropoff: { lat: 1, lon: 2 }, window: later, updatedAt: 3000,
      });
      expect((await r.history('w')).map((h) => h.stage)).toEqual(['Requested', 'Scheduled', 'Requested']);
      expect(await r.reschedule('w', {}, ['Scheduled'], 3500, { ...back, at: 3500, eventId: 'w:rescheduled:3500' })).toBe(false);
      // The drone is free for another delivery; this one is scheduled again under a new event id.
      await r.insert(newDelivery('o'), { stage: 'Requested', at: 1000, eventId: 'o:r' });
      expect(await r.advance('o', { stage: 'Scheduled', at: 4000, eventId: 'o:s' }, { droneId: 'drone-1' })).toBe(true);
      // Not back to the drone the reschedule took it from, whatever the caller does.
      expect(await r.advance('w', { stage: 'Scheduled', at: 3900, eventId: 'w:s:again' }, { droneId: 'drone-1' })).toBe(false);
      expect(await r.get('w')).toMatchObject({ stage: 'Requested', droneId: null });
      expect(await r.advance('w', { stage: 'Scheduled', at: 4000, eventId: 'w:s:1' }, { droneId: 'drone-2' })).toBe(true);
      expect(await r.get('w')).toMatchObject({ stage: 'Scheduled', droneId: 'drone-2', abortedDroneId: 'drone-1' });
      await r.update('w', { route: null }, 4500);
      expect((await r.get('w'))?.route).toBeNull();
      await r.close();
    });

    it('never gives one drone two active deliveries', async () => {
      const r = await make();
      for (const id of ['a', 'b']) await r.insert(newDelivery(id), { stage: 'Requested', at: 1000, eventId: `${id}:r` });
      expect(await r.advance('a', { stage: 'Scheduled', at: 2000, eventId: 'a:s' }, { droneId: 'drone-1' })).toBe(true);
      expect(await r.advance('b', { stage: 'Scheduled', at: 2000, eventId: 'b:s' }, { droneId: 'drone-1' })).toBe(false);
      expect(await r.get('b')).toMatchObject({ stage: 'Requested', droneId: null });
      expect(await r.history('b')).toHaveLength(1);
      expect(await r.advance('a', { stage: 'Completed', at: 3000, eventId: 'a:c' }, {})).toBe(true);
      expect(await r.advance('b', { stage: 'Scheduled', at: 3000, eventId: 'b:s' }, { droneId: 'drone-1' })).toBe(true);
      await r.close();
    });

    it('lists with filters and keyset pagination on (createdAt, id)', async () => {
      const r = await make();
      for (let k = 0; k < 7; k++) {
        const d = { ...newDelivery(`p${k}`, 1000 + Math.floor(k / 2)), owner: k % 3 === 0 ? 'shop-2' : 'shop-1' };
        await r.insert(d, { stage: 'Requested', at: d.createdAt, eventId: `p${k}:r` });
      }
      const pages: string[][] = [];
      let after: { createdAt: number; id: string } | undefined;
      for (;;) {
        const page = await r.list(after ? { after } : {}, 3);
        if (page.length === 0) break;
        pages.push(page.map((d) => d.id));
        const last = page.at(-1)!;
        after = { createdAt: last.createdAt, id: last.id };
      }
      expect(pages).toEqual([['p0', 'p1', 'p2'], ['p3', 'p4', 'p5'], ['p6']]);
      expect((await r.list({ owner: 'shop-2' }, 10)).map((d) => d.id)).toEqual(['p0', 'p3', 'p6']);
      expect((await r.list({ from: 1001, to: 1003 }, 10)).map((d) => d.id)).toEqual(['p2', 'p3', 'p4', 'p5']);
      expect(await r.list({ stages: ['Scheduled'] }, 10)).toEqual([]);
      // The scheduler's horizon: no window start, or one at or before it.
      await r.insert({ ...newDelivery('w-near', 900), window: { pickupFrom: 5000, pickupBy: null, deadline: null } }, { stage: 'Requested', at: 900, eventId: 'w-near:r' });
      await r.insert({ ...newDelivery('w-far', 901), window: { pickupFrom: 9000, pickupBy: null, deadline: null } }, { stage: 'Requested', at: 901, eventId: 'w-far:r' });
      expect((await r.list({ stages: ['Requested'], pickupFromUntil: 5000 }, 3)).map((d) => d.id)).toEqual(['w-near', 'p0', 'p1']);
      await r.close();
    });

    it('a batch commits on resolve and rolls back whole on reject; a refused change inside undoes only itself', async () => {
      const r = await make();
      for (const id of ['a', 'b', 'c']) await r.insert(newDelivery(id), { stage: 'Requested', at: 1000, eventId: `${id}:r` });
      await expect(r.batch(async (tx) => {
        await tx.advance('a', { stage: 'Scheduled', at: 2000, eventId: 'a:s' }, { droneId: 'drone-1' });
        await tx.insert(newDelivery('d'), { stage: 'Requested', at: 2000, eventId: 'd:r' });
        throw new Error('give up');
      })).rejects.toThrow('give up');
      expect(await r.get('a')).toMatchObject({ stage: 'Requested', droneId: null });
      expect(await r.get('d')).toBeNull();
      const results = await r.batch(async (tx) => [
        await tx.advance('a', { stage: 'Scheduled', at: 3000, eventId: 'a:s' }, { droneId: 'drone-1' }),
        await tx.advance('b', { stage: 'Scheduled', at: 3000, eventId: 'b:s' }, { droneId: 'drone-1' }),
        await tx.batch(async (inner) => inner.advance('c', { stage: 'Scheduled', at: 3000, eventId: 'c:s' }, { droneId: 'drone-2' })),
      ]);
      expect(results).toEqual([true, false, true]);
      expect((await r.listByStage(['Scheduled'], 10)).map((d) => [d.id, d.droneId])).toEqual([['a', 'drone-1'], ['c', 'drone-2']]);
      expect(await r.history('b')).toHaveLength(1);
      await r.close();
    });

    it('concurrently: one drone, two assignments, one wins; one id inserted at once, once; one event applied once', async () => {
      const r = await make();
      for (const id of ['a', 'b']) await r.insert(newDelivery(id), { stage: 'Requested', at: 1000, eventId: `${id}:r` });
      // Each in its own transaction that reads first, as the scheduler and the saga do.
      const assign = (id: string) => r.batch(async (tx) => {
        expect(await tx.get(id)).toMatchObject({ stage: 'Requested' });
        return tx.advance(id, { stage: 'Scheduled', at: 2000, eventId: `${id}:s` }, { droneId: 'drone-7' });
      });
      const won = await Promise.all([assign('a'), assign('b')]);
      expect(won.filter(Boolean)).toHaveLength(1);
      expect((await r.listByStage(['Scheduled'], 10)).map((d) => d.droneId)).toEqual(['drone-7']);
      const inserts = await Promise.all(Array.from({ length: 6 }, (_, k) => r.insert(newDelivery('same'), { stage: 'Requested', at: 1000, eventId: `same:r:${k}` })));
      expect(inserts.filter(Boolean)).toHaveLength(1);
      expect(await r.history('same')).toHaveLength(1);
      const winner = won[0] ? 'a' : 'b';
      const repeats = await Promise.all(Array.from({ length: 4 }, () => r.advance(winner, { stage: 'HeadedToPickup', at: 3000, eventId: 'dup-event' }, {})));
      expect(repeats.filter(Boolean)).toHaveLength(1);
      expect((await r.history(winner)).map((h) => h.stage)).toEqual(['Requested', 'Scheduled', 'HeadedToPickup']);
      await r.close();
    });

    it('drains an ingestion queue batch with its position in one transaction; counts by stage; lists every id (issue 7)', async () => {
      const r = await make();
      const item = (id: string) => ({ delivery: newDelivery(id), first: { stage: 'Requested' as const, at: 1000, eventId: `${id}:r` } });
      expect(await r.queuePosition('q-1')).toBe(0);
      expect(await r.drainQueue('q-1', [item('a'), item('b')], 120)).toEqual([true, true]);
      // A repeat (a request that also reached the table another way) is refused, the position still moves.
      expect(await r.drainQueue('q-1', [item('b'), item('c')], 250)).toEqual([false, true]);
      expect(await r.drainQueue('q-2', [item('d')], 40)).toEqual([true]);
      expect([await r.queuePosition('q-1'), await r.queuePosition('q-2')]).toEqual([250, 40]);
      // Rolled back with the batch it ran in: rows and position together, or neither.
      await expect(r.batch(async (tx) => {
        await tx.drainQueue('q-1', [item('e')], 300);
        throw new Error('undo');
      })).rejects.toThrow('undo');
      expect(await r.queuePosition('q-1')).toBe(250);
      expect(await r.get('e')).toBeNull();
      await r.advance('a', { stage: 'Scheduled', at: 2000, eventId: 'a:s' }, { droneId: 'x' });
      expect(await r.countByStage(['Requested'], 10)).toBe(3);
      expect(await r.countByStage(['Requested'], 2)).toBe(2);
      expect(await r.countByStage([], 10)).toBe(0);
      expect((await r.allIds()).sort()).toEqual(['a', 'b', 'c', 'd']);
      await r.close();
    });
  });
}
