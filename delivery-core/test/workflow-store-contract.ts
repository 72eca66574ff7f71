import { describe, expect, it } from 'vitest';
import { begin } from '../src/domain/saga.js';
import { Deduplicator, OutboxRelay, RecentIds } from '../src/domain/outbox.js';
import type { WorkflowStore } from '../src/workflow/ports.js';
import { ManualClock } from './workflow-helpers.js';

/** One behaviour suite for every WorkflowStore. `reopen` gives a new handle on the same database (a restart). */
export function workflowStoreContract(name: string, make: () => Promise<{ store: WorkflowStore; reopen(): Promise<WorkflowStore>; dispose(): Promise<void> }>): void {
  describe(`WorkflowStore contract: ${name}`, () => {
    const withStore = async (fn: (s: WorkflowStore, reopen: () => Promise<WorkflowStore>) => Promise<void>) => {
      const h = await make();
      try {
        await fn(h.store, () => h.reopen());
      } finally {
        await h.store.close();
        await h.dispose();
      }
    };

    it('accounts: insert once, read back, list a business\'s customers by id with a keyset', () => withStore(async (s) => {
      expect(await s.insertAccount({ id: 'b1', kind: 'business', name: 'B', businessId: null, status: 'active', createdAt: 5 })).toBe(true);
      expect(await s.insertAccount({ id: 'b1', kind: 'business', name: 'Other', businessId: null, status: 'active', createdAt: 6 })).toBe(false);
      for (const id of ['c3', 'c1', 'c2']) await s.insertAccount({ id, kind: 'customer', name: id, businessId: 'b1', status: 'active', createdAt: 7 });
      await s.insertAccount({ id: 'x', kind: 'customer', name: 'x', businessId: null, status: 'suspended', createdAt: 8 });
      expect(await s.getAccount('b1')).toEqual({ id: 'b1', kind: 'business', name: 'B', businessId: null, status: 'active', createdAt: 5 });
      expect(await s.getAccount('nope')).toBeNull();
      expect((await s.listAccounts({ businessId: 'b1' }, { limit: 2 })).map((a) => a.id)).toEqual(['c1', 'c2']);
      expect((await s.listAccounts({ businessId: 'b1' }, { limit: 2, after: 'c2' })).map((a) => a.id)).toEqual(['c3']);
      expect((await s.listAccounts({}, { limit: 10 })).map((a) => a.id)).toEqual(['b1', 'c1', 'c2', 'c3', 'x']);
    }));

    it('packages: a package is bound to one delivery and a delivery carries one package', () => withStore(async (s) => {
      const pkg = (id: string, owner: string | null) => ({ id, owner, size: 'small' as const, weightKg: 1.25, tag: 'T', deliveryId: null, createdAt: 1 });
      expect(await s.insertPackage(pkg('p1', 'o1'))).toBe(true);
      expect(await s.insertPackage(pkg('p1', 'o2'))).toBe(false);
      await s.insertPackage(pkg('p2', 'o2'));
      expect(await s.bindPackage('p1', 'd1')).toBe(true);
      expect(await s.bindPackage('p1', 'd1')).toBe(true);
      expect(await s.bindPackage('p1', 'd2')).toBe(false);
      expect(await s.bindPackage('p2', 'd1')).toBe(false);
      expect(await s.bindPackage('nope', 'd9')).toBe(false);
      expect(await s.packageOfDelivery('d1')).toEqual({ ...pkg('p1', 'o1'), deliveryId: 'd1' });
      expect([...(await s.packagesOfDeliveries(['d1', 'd7']))]).toEqual([['d1', { ...pkg('p1', 'o1'), deliveryId: 'd1' }]]);
      expect((await s.packagesOfDeliveries([])).size).toBe(0);
      await s.unbindPackage('p1', 'd2');
      expect((await s.getPackage('p1'))?.deliveryId).toBe('d1');
      await s.unbindPackage('p1', 'd1');
      expect(await s.packageOfDelivery('d1')).toBeNull();
      expect((await s.listPackages({ owners: ['o2'] }, { limit: 10 })).map((p) => p.id)).toEqual(['p2']);
      expect(await s.listPackages({ owners: [] }, { limit: 10 })).toEqual([]);
      expect((await s.listPackages({}, { limit: 10, after: 'p1' })).map((p) => p.id)).toEqual(['p2']);
    }));

    it('sagas: created once, saved only over the version read, with its events; due and unfinished lists', () => withStore(async (s, reopen) => {
      const a = begin('delivery', 'a', { deliveryId: 'a', nested: { k: [1, 'x', null] } }, 100);
      expect(await s.createSaga(a)).toBe(true);
      expect(await s.createSaga({ ...a, data: {} })).toBe(false);
      await s.createSaga(begin('delivery', 'b', {}, 50));
      const a1 = { ...a, step: 1, version: 1, nextAttemptAt: 1000, updatedAt: 150, error: { step: 'x', code: 'C', message: 'm' } };
      expect(await s.saveSaga(a1, [{ id: 'ev1', type: 'T', aggregateId: 'a', payload: { n: 1 } }])).toBe(true);
      expect(await s.saveSaga({ ...a1, step: 9 }, [{ id: 'ev-stale', type: 'T', aggregateId: 'a', payload: null }])).toBe(false);
      expect(await s.saveSaga({ ...a1, version: 2, status: 'completed' }, [{ id: 'ev1', type: 'T', aggregateId: 'a', payload: { n: 2 } }])).toBe(true);
      const again = await reopen();
      try {
        expect(await again.getSaga('a')).toEqual({ ...a1, version: 2, status: 'completed' });
        expect((await again.dueSagas(100, 10)).map((x) => x.id)).toEqual(['b']);
        expect((await again.unfinishedSagas(10)).map((x) => x.id)).toEqual(['b']);
        expect(await again.unsent(10)).toMatchObject([{ id: 'ev1', type: 'T', aggregateId: 'a', payload: { n: 1 }, createdAt: 150 }]);
      } finally {
        await again.close();
      }
    }));

    it('reservations: one holder per drone, one drone per holder, even when claimed at once', () => withStore(async (s) => {
      const claims = await Promise.all(Array.from({ length: 10 }, (_, k) => s.reserveDrone('drone-1', `d${k}`, 1)));
      expect(claims.filter(Boolean)).toHaveLength(1);
      const winner = `d${claims.indexOf(true)}`;
      expect(await s.reserveDrone('drone-1', winner, 2)).toBe(true);
      expect(await s.reserveDrone('drone-2', winner, 2)).toBe(false);
      expect(await s.heldBy(winner)).toBe('drone-1');
      await s.releaseDrone('drone-1', 'someone-else');
      expect(await s.reservations()).toEqual([{ droneId: 'drone-1', holder: winner }]);
      await s.releaseDrone('drone-1', winner);
      expect(await s.reservations()).toEqual([]);
      expect(await s.heldBy(winner)).toBeNull();
    }));

    it('outbox: a crash between publish and mark-sent publishes again after restart; the consumer handles each id once', () => withStore(async (s, reopen) => {
      const clock = new ManualClock();
      let saga = begin('delivery', 'a', {}, 0);
      await s.createSaga(saga);
      for (const id of ['e1', 'e2', 'e3']) {
        saga = { ...saga, version: saga.version + 1 };
        await s.saveSaga(saga, [{ id, type: 'T', aggregateId: 'a', payload: id }]);
      }
      const handled: string[] = [];
      const consumer = new Deduplicator(new RecentIds(), (e) => { handled.push(e.id); });
      const publisher = { publish: (e: Parameters<typeof consumer.deliver>[0]) => consumer.deliver(e) };
      await expect(new OutboxRelay({ unsent: (n) => s.unsent(n), markSent: () => Promise.reject(new Error('process died')) }, publisher, clock).relayOnce()).rejects.toThrow();
      const again = await reopen();
      try {
        expect(await new OutboxRelay(again, publisher, clock).drain()).toBe(3);
        expect(handled).toEqual(['e1', 'e2', 'e3']);
        expect(consumer.stats.duplicates).toBe(3);
        expect(await again.unsent(10)).toEqual([]);
      } finally {
        await again.close();
      }
    }));
  });
}
