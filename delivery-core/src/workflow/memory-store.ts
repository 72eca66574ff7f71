import type { OutboxDraft, SagaState } from '../domain/saga.js';
import type { OutboxEvent } from '../domain/outbox.js';
import type { Page, WorkflowStore } from './ports.js';
import type { Account, Package } from './records.js';

const clone = <T>(x: T): T => structuredClone(x);
const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** In-memory twin of the SQL workflow stores, held to the same contract suite. */
export class MemoryWorkflowStore implements WorkflowStore {
  private readonly accounts = new Map<string, Account>();
  private readonly packages = new Map<string, Package>();
  private readonly sagas = new Map<string, SagaState>();
  private readonly outbox = new Map<string, OutboxEvent & { sentAt: number | null }>();
  private readonly held = new Map<string, string>();
  private seq = 0;

  insertAccount(a: Account): Promise<boolean> {
    if (this.accounts.has(a.id)) return Promise.resolve(false);
    this.accounts.set(a.id, clone(a));
    return Promise.resolve(true);
  }
  getAccount(id: string): Promise<Account | null> {
    return Promise.resolve(clone(this.accounts.get(id) ?? null));
  }
  listAccounts(f: { businessId?: string }, page: Page): Promise<Account[]> {
    return Promise.resolve(this.page([...this.accounts.values()].filter((a) => f.businessId === undefined || a.businessId === f.businessId), page));
  }

  insertPackage(p: Package): Promise<boolean> {
    if (this.packages.has(p.id)) return Promise.resolve(false);
    this.packages.set(p.id, clone(p));
    return Promise.resolve(true);
  }
  getPackage(id: string): Promise<Package | null> {
    return Promise.resolve(clone(this.packages.get(id) ?? null));
  }
  listPackages(f: { owners?: readonly string[] }, page: Page): Promise<Package[]> {
    return Promise.resolve(this.page([...this.packages.values()].filter((p) => !f.owners || (p.owner !== null && f.owners.includes(p.owner))), page));
  }
  packageOfDelivery(deliveryId: string): Promise<Package | null> {
    return Promise.resolve(clone([...this.packages.values()].find((p) => p.deliveryId === deliveryId) ?? null));
  }
  packagesOfDeliveries(deliveryIds: readonly string[]): Promise<Map<string, Package>> {
    const want = new Set(deliveryIds);
    return Promise.resolve(new Map([...this.packages.values()].filter((p) => p.deliveryId !== null && want.has(p.deliveryId)).map((p) => [p.deliveryId!, clone(p)])));
  }
  bindPackage(id: string, deliveryId: string): Promise<boolean> {
    const p = this.packages.get(id);
    if (!p || (p.deliveryId !== null && p.deliveryId !== deliveryId)) return Promise.resolve(false);
    // A delivery carries one package (the SQL stores' UNIQUE delivery_id).
    if ([...this.packages.values()].some((o) => o.id !== id && o.deliveryId === deliveryId)) return Promise.resolve(false);
    p.deliveryId = deliveryId;
    return Promise.resolve(true);
  }
  unbindPackage(id: string, deliveryId: string): Promise<void> {
    const p = this.packages.get(id);
    if (p?.deliveryId === deliveryId) p.deliveryId = null;
    return Promise.resolve();
  }

  createSaga(s: SagaState): Promise<boolean> {
    if (this.sagas.has(s.id)) return Promise.resolve(false);
    this.sagas.set(s.id, clone(s));
    return Promise.resolve(true);
  }
  getSaga(id: string): Promise<SagaState | null> {
    return Promise.resolve(clone(this.sagas.get(id) ?? null));
  }
  saveSaga(next: SagaState, events: readonly OutboxDraft[]): Promise<boolean> {
    const cur = this.sagas.get(next.id);
    if (!cur || cur.version !== next.version - 1) return Promise.resolve(false);
    this.sagas.set(next.id, clone(next));
    for (const e of events) {
      if (!this.outbox.has(e.id)) this.outbox.set(e.id, { ...clone(e), seq: ++this.seq, createdAt: next.updatedAt, sentAt: null });
    }
    return Promise.resolve(true);
  }
  dueSagas(now: number, limit: number): Promise<SagaState[]> {
    return Promise.resolve(this.unfinished().filter((s) => s.nextAttemptAt <= now).sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || byId(a, b)).slice(0, limit).map(clone));
  }
  unfinishedSagas(limit: number): Promise<SagaState[]> {
    return Promise.resolve(this.unfinished().sort((a, b) => a.createdAt - b.createdAt || byId(a, b)).slice(0, limit).map(clone));
  }
  private unfinished(): SagaState[] {
    return [...this.sagas.values()].filter((s) => s.status === 'running' || s.status === 'compensating');
  }

  unsent(limit: number): Promise<OutboxEvent[]> {
    return Promise.resolve([...this.outbox.values()].filter((e) => e.sentAt === null).sort((a, b) => a.seq - b.seq).slice(0, limit)
      .map(({ sentAt: _s, ...e }) => clone(e)));
  }
  markSent(ids: readonly string[], now: number): Promise<void> {
    for (const id of ids) {
      const e = this.outbox.get(id);
      if (e && e.sentAt === null) e.sentAt = now;
    }
    return Promise.resolve();
  }

  reserveDrone(droneId: string, holder: string): Promise<boolean> {
    const cur = this.held.get(droneId);
    if (cur !== undefined) return Promise.resolve(cur === holder);
    if ([...this.held.values()].includes(holder)) return Promise.resolve(false);
    this.held.set(droneId, holder);
    return Promise.resolve(true);
  }
  releaseDrone(droneId: string, holder: string): Promise<void> {
    if (this.held.get(droneId) === holder) this.held.delete(droneId);
    return Promise.resolve();
  }
  reservations(): Promise<{ droneId: string; holder: string }[]> {
    return Promise.resolve([...this.held].map(([droneId, holder]) => ({ droneId, holder })));
  }

  heldBy(holder: string): Promise<string | null> {
    return Promise.resolve([...this.held].find(([, h]) => h === holder)?.[0] ?? null);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private page<T extends { id: string }>(rows: T[], page: Page): T[] {
    return rows.filter((r) => page.after === undefined || r.id > page.after).sort(byId).slice(0, page.limit).map(clone);
  }
}
