import type { Delivery, StageChange } from '../domain/delivery.js';
import type { DeliveryRepository } from '../ports.js';

interface Waiting {
  delivery: Delivery;
  first: StageChange;
  resolve: (created: boolean) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit in front of a repository (the PostgreSQL/InnoDB technique): inserts that arrive
 * in the same event-loop turn share one transaction, so one fsync (synchronous=FULL) makes a
 * whole batch durable. Each caller's promise settles only after that commit — the API answers
 * 202 for a request that is on disk, never for one that is only in memory.
 */
export class GroupCommitQueue {
  private waiting: Waiting[] = [];
  private scheduled = false;
  private inFlight: Promise<void> | null = null;
  readonly stats = { batches: 0, items: 0, largestBatch: 0 };

  constructor(private readonly repo: DeliveryRepository, private readonly maxBatch = 2000) {}

  insert(delivery: Delivery, first: StageChange): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.waiting.push({ delivery, first, resolve, reject });
      if (this.waiting.length >= this.maxBatch && !this.inFlight) void this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        // setImmediate runs after the poll phase: every request parsed in this turn joins the batch.
        setImmediate(() => void this.flush());
      }
    });
  }

  /**
   * Commits what is waiting. One commit in flight at a time: requests arriving meanwhile wait
   * for the next one, so the slower the commit, the larger the group (the classic behaviour).
   */
  async flush(): Promise<void> {
    this.scheduled = false;
    if (this.inFlight) return this.inFlight;
    const batch = this.waiting.splice(0, this.maxBatch);
    if (batch.length === 0) return;
    this.inFlight = this.commit(batch);
    try {
      await this.inFlight;
    } finally {
      this.inFlight = null;
    }
    if (this.waiting.length > 0) await this.flush();
  }

  private async commit(batch: Waiting[]): Promise<void> {
    let created: boolean[];
    try {
      created = await this.repo.insertMany(batch.map((w) => ({ delivery: w.delivery, first: w.first })));
    } catch (err) {
      for (const w of batch) w.reject(err);
      return;
    }
    this.stats.batches += 1;
    this.stats.items += batch.length;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
    batch.forEach((w, k) => w.resolve(created[k]!));
  }
}
