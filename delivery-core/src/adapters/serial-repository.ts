import type { DeliveryStage } from '@aerie/contracts';
import type { Delivery, StageChange } from '../domain/delivery.js';
import type { DeliveryRepository, ListFilter } from '../ports.js';

type AdvancePatch = Parameters<DeliveryRepository['advance']>[2];
type UpdatePatch = Parameters<DeliveryRepository['update']>[1];
type ReschedulePatch = Parameters<DeliveryRepository['reschedule']>[1];

/** The synchronous core of an embedded store: each call is atomic on its own. */
export interface SyncDeliveryStore {
  insertMany(items: readonly { delivery: Delivery; first: StageChange }[]): boolean[];
  get(id: string): Delivery | null;
  history(id: string): StageChange[];
  advance(id: string, change: StageChange, patch: AdvancePatch): boolean;
  reschedule(id: string, patch: ReschedulePatch, stages: readonly DeliveryStage[], now: number, replan?: StageChange): boolean;
  update(id: string, patch: UpdatePatch, now: number): void;
  listByStage(stages: readonly DeliveryStage[], limit: number): Delivery[];
  list(f: ListFilter, limit: number): Delivery[];
  countByStage(stages: readonly DeliveryStage[], limit: number): number;
  setQueuePosition(queue: string, position: number): void;
  queuePosition(queue: string): number;
  allIds(): string[];
  begin(): void;
  commit(): void;
  rollback(): void;
  close(): void;
}

/**
 * The async port over a synchronous embedded store. One transaction at a time: while a batch is
 * open (it may await between its statements), every other caller waits for it, so nothing runs
 * inside a transaction it did not open and a batch's reads stay true until it commits. Outside a
 * batch a call runs at once, in the caller's turn.
 */
export class SerialRepository implements DeliveryRepository {
  private held: Promise<void> | null = null;
  private readonly tx: DeliveryRepository;

  constructor(private readonly core: SyncDeliveryStore) {
    this.tx = new JoinedTransaction(core);
  }

  private async run<T>(f: () => T): Promise<T> {
    while (this.held) await this.held;
    return f();
  }

  insert(d: Delivery, first: StageChange): Promise<boolean> {
    return this.run(() => this.core.insertMany([{ delivery: d, first }])[0]!);
  }
  insertMany(items: readonly { delivery: Delivery; first: StageChange }[]): Promise<boolean[]> {
    return this.run(() => this.core.insertMany(items));
  }
  get(id: string): Promise<Delivery | null> {
    return this.run(() => this.core.get(id));
  }
  history(id: string): Promise<StageChange[]> {
    return this.run(() => this.core.history(id));
  }
  advance(id: string, change: StageChange, patch: AdvancePatch): Promise<boolean> {
    return this.run(() => this.core.advance(id, change, patch));
  }
  reschedule(id: string, patch: ReschedulePatch, stages: readonly DeliveryStage[], now: number, replan?: StageChange): Promise<boolean> {
    return this.run(() => this.core.reschedule(id, patch, stages, now, replan));
  }
  update(id: string, patch: UpdatePatch, now: number): Promise<void> {
    return this.run(() => this.core.update(id, patch, now));
  }
  listByStage(stages: readonly DeliveryStage[], limit: number): Promise<Delivery[]> {
    return this.run(() => this.core.listByStage(stages, limit));
  }
  list(f: ListFilter, limit: number): Promise<Delivery[]> {
    return this.run(() => this.core.list(f, limit));
  }
  drainQueue(queue: string, items: readonly { delivery: Delivery; first: StageChange }[], position: number): Promise<boolean[]> {
    return this.batch((tx) => tx.drainQueue(queue, items, position));
  }
  countByStage(stages: readonly DeliveryStage[], limit: number): Promise<number> {
    return this.run(() => this.core.countByStage(stages, limit));
  }
  queuePosition(queue: string): Promise<number> {
    return this.run(() => this.core.queuePosition(queue));
  }
  allIds(): Promise<string[]> {
    return this.run(() => this.core.allIds());
  }

  async batch<T>(fn: (tx: DeliveryRepository) => Promise<T>): Promise<T> {
    while (this.held) await this.held;
    let release!: () => void;
    this.held = new Promise<void>((r) => (release = r));
    try {
      this.core.begin();
      try {
        const out = await fn(this.tx);
        this.core.commit();
        return out;
      } catch (err) {
        this.core.rollback();
        throw err;
      }
    } finally {
      this.held = null;
      release();
    }
  }

  async close(): Promise<void> {
    while (this.held) await this.held;
    this.core.close();
  }
}

/** The repository as seen inside an open batch: straight to the core, nested batches join. */
class JoinedTransaction implements DeliveryRepository {
  constructor(private readonly core: SyncDeliveryStore) {}
  insert(d: Delivery, first: StageChange): Promise<boolean> {
    return settle(() => this.core.insertMany([{ delivery: d, first }])[0]!);
  }
  insertMany(items: readonly { delivery: Delivery; first: StageChange }[]): Promise<boolean[]> {
    return settle(() => this.core.insertMany(items));
  }
  get(id: string): Promise<Delivery | null> {
    return settle(() => this.core.get(id));
  }
  history(id: string): Promise<StageChange[]> {
    return settle(() => this.core.history(id));
  }
  advance(id: string, change: StageChange, patch: AdvancePatch): Promise<boolean> {
    return settle(() => this.core.advance(id, change, patch));
  }
  reschedule(id: string, patch: ReschedulePatch, stages: readonly DeliveryStage[], now: number, replan?: StageChange): Promise<boolean> {
    return settle(() => this.core.reschedule(id, patch, stages, now, replan));
  }
  update(id: string, patch: UpdatePatch, now: number): Promise<void> {
    return settle(() => this.core.update(id, patch, now));
  }
  listByStage(stages: readonly DeliveryStage[], limit: number): Promise<Delivery[]> {
    return settle(() => this.core.listByStage(stages, limit));
  }
  list(f: ListFilter, limit: number): Promise<Delivery[]> {
    return settle(() => this.core.list(f, limit));
  }
  drainQueue(queue: string, items: readonly { delivery: Delivery; first: StageChange }[], position: number): Promise<boolean[]> {
    return settle(() => {
      const created = this.core.insertMany(items);
      this.core.setQueuePosition(queue, position);
      return created;
    });
  }
  countByStage(stages: readonly DeliveryStage[], limit: number): Promise<number> {
    return settle(() => this.core.countByStage(stages, limit));
  }
  queuePosition(queue: string): Promise<number> {
    return settle(() => this.core.queuePosition(queue));
  }
  allIds(): Promise<string[]> {
    return settle(() => this.core.allIds());
  }
  batch<T>(fn: (tx: DeliveryRepository) => Promise<T>): Promise<T> {
    return fn(this);
  }
  close(): Promise<void> {
    return Promise.reject(new Error('close() inside a batch'));
  }
}

/** A synchronous result as a promise; a throw becomes a rejection, as from an async function. */
function settle<T>(f: () => T): Promise<T> {
  try {
    return Promise.resolve(f());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}
