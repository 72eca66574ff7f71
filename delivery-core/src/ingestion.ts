import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { Clock } from '@aerie/contracts';
import { sameRequest, type Delivery, type DeliveryRequest, type StageChange } from './domain/delivery.js';
import { DeliveryError } from './errors.js';
import type { DeliveryRepository, IngestQueue, ListFilter } from './ports.js';

export interface IngestionOptions {
  /** Most requests moved from the queue into the deliveries table per transaction. */
  drainBatchMax: number;
  /**
   * Load levelling: the drainer keeps at most this many Requested rows waiting in the table for
   * the scheduler; the rest wait in the queue, however fast they arrive.
   */
  tableBacklogMax: number;
  /** How often the drainer looks for room in the table (ms). */
  drainEveryMs: number;
  /**
   * Accepting comes first: while the event loop was busier than this share of a drainer tick
   * (0–1, performance.eventLoopUtilization), and for `busyHoldMs` after (a burst goes on through
   * its short pauses), the drainer moves at most `busyDrainPerSec` requests a second — the
   * backlog still moves, the burst waits in the queue. The default, 10 a second, is still several
   * times what a fleet can fly (a thousand drones on 15-minute trips complete about one a second).
   */
  busyUtilization: number;
  busyDrainPerSec: number;
  busyHoldMs: number;
  /**
   * Other instances create in the same table (PostgreSQL): an id this instance has neither queued
   * nor drained is looked up in the table before it is accepted, so a retry that lands on another
   * instance answers the same delivery (or its conflict). Two instances taking the same new id in
   * the same moment still both accept it; the drain then finds the other's row and, when the
   * requests differ, reports DLV_ERR_ID_CONFLICT_LATE (counted): route creates by id to keep
   * that from happening (README, "Scaling out").
   */
  sharedTable: boolean;
}

export const defaultIngestionOptions: Readonly<IngestionOptions> = Object.freeze({
  drainBatchMax: 500, tableBacklogMax: 200, drainEveryMs: 100, busyUtilization: 0.8, busyDrainPerSec: 10, busyHoldMs: 1000, sharedTable: false,
});

export interface IngestionDeps {
  repo: DeliveryRepository;
  queue: IngestQueue;
  clock: Clock;
  options: IngestionOptions;
  /** The new delivery (stage Requested) and its first stage change, as created at `at`. */
  build(id: string, req: DeliveryRequest, correlationId: string, at: number): { delivery: Delivery; first: StageChange };
  /** A request is now a row of the table (called once per delivery, after the commit). */
  onDrained(d: Delivery, first: StageChange): void;
  onError(err: unknown): void;
}

interface Queued {
  delivery: Delivery;
  first: StageChange;
  durable: Promise<number>;
  /** Its end position in the log once durable, else null. */
  end: number | null;
}

/** A record as appended: what `build` needs to make the same delivery again after a restart. */
interface Wire { i: string; c: string; t: number; r: DeliveryRequest }

/**
 * Durable, load-levelled ingestion (issue 7). The request path checks idempotency against an
 * in-memory index (the ids of the table, rebuilt at start, plus the requests still queued),
 * appends the request to the queue, and answers once the queue's group fsync has it; it never
 * writes the database. The drainer moves durable requests into the deliveries table, a batch per
 * transaction together with the queue position reached (exactly once across a crash: what the
 * database has, it has with its position; the rest is read again from the log), and only while
 * fewer than `tableBacklogMax` Requested rows wait there for the scheduler.
 */
export class Ingestion {
  private readonly queued = new Map<string, Queued>();
  /** Durable and not yet drained, in log order. */
  private readonly ready: Queued[] = [];
  private known = new Set<string>();
  private readonly recovered: Promise<void>;
  private isRecovered = false;
  private markRecovered!: (err?: unknown) => void;
  private chain: Promise<unknown> = Promise.resolve();
  private timer: unknown = null;
  private stopped = false;
  private elu: EventLoopUtilization = performance.eventLoopUtilization();
  /** When a drainer tick last found the event loop busy. */
  private busyAt: number | null = null;
  /** lateConflicts: accepted here, but the table already had the id with another request (sharedTable). */
  readonly stats = { drained: 0, batches: 0, busyTicks: 0, lateConflicts: 0 };

  constructor(private readonly deps: IngestionDeps) {
    this.recovered = new Promise<void>((resolve, reject) => {
      this.markRecovered = (err) => (err === undefined ? resolve() : reject(err instanceof Error ? err : new Error('ingestion recovery failed', { cause: err })));
    });
    // Requests fail with the recovery's error, not as an unhandled rejection.
    this.recovered.catch(() => undefined);
  }

  /** Requests waiting in the queue (accepted, not yet in the table). */
  get size(): number {
    return this.queued.size;
  }

  /**
   * At shutdown (issue 8), after the API stopped accepting: moves every durable request into the
   * table whatever the backlog, batch by batch, until done, the first failure (the database is
   * unreachable) or `stopNow()`. What is left stays in the log, read back at the next start.
   */
  async handOver(stopNow: () => boolean): Promise<{ drained: number; left: number; error: unknown }> {
    await this.stop();
    let drained = 0;
    let error: unknown = null;
    try {
      while (this.ready.length > 0 && !stopNow()) drained += await this.drainBatch(this.deps.options.drainBatchMax);
    } catch (err) {
      error = err;
    }
    return { drained, left: this.ready.length, error };
  }

  /** At start: the index from the table and the log, and the requests the log holds past the table's position. */
  async recover(): Promise<number> {
    try {
      const { repo, queue } = this.deps;
      this.known = new Set(await repo.allIds());
      const records = await queue.open(await repo.queuePosition(queue.id));
      for (const r of records) {
        const w = JSON.parse(r.payload.toString('utf8')) as Wire;
        const q: Queued = { ...this.deps.build(w.i, w.r, w.c, w.t), durable: Promise.resolve(r.end), end: r.end };
        if (!this.queued.has(w.i)) this.queued.set(w.i, q);
        this.ready.push(q);
      }
      this.isRecovered = true;
      this.markRecovered();
      return records.length;
    } catch (err) {
      this.markRecovered(err);
      throw err;
    }
  }

  start(): void {
    this.stopped = false;
    this.timer ??= this.deps.clock.setInterval(() => void this.run(() => this.drainDue()), this.deps.options.drainEveryMs);
  }

  /** Stops the drainer and waits for a batch under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) this.deps.clock.clearInterval(this.timer);
    this.timer = null;
    await this.chain;
  }

  /**
   * The API's create: the same id with the same request is the same delivery (`created` false),
   * with another request a conflict; a new one resolves once its record is durable.
   */
  async accept(id: string, req: DeliveryRequest, correlationId: string): Promise<{ delivery: Delivery; created: boolean }> {
    if (!this.isRecovered) await this.recovered;
    const queued = this.queued.get(id);
    if (queued) return this.repeat(queued.delivery, req, queued.durable);
    if (this.known.has(id) || this.deps.options.sharedTable) {
      const existing = await this.deps.repo.get(id);
      if (existing) return this.repeat(existing, req, null);
      const again = this.queued.get(id);
      if (again) return this.repeat(again.delivery, req, again.durable);
    }
    const { delivery, first } = this.deps.build(id, req, correlationId, this.deps.clock.now());
    const wire: Wire = { i: id, c: correlationId, t: delivery.createdAt, r: req };
    const q: Queued = { delivery, first, durable: null as unknown as Promise<number>, end: null };
    q.durable = this.deps.queue.append(Buffer.from(JSON.stringify(wire))).then((end) => {
      q.end = end;
      this.ready.push(q);
      return end;
    }, (err: unknown) => {
      if (this.queued.get(id) === q) this.queued.delete(id);
      throw err;
    });
    this.queued.set(id, q);
    await q.durable;
    return { delivery, created: true };
  }

  private async repeat(existing: Delivery, req: DeliveryRequest, durable: Promise<number> | null): Promise<{ delivery: Delivery; created: boolean }> {
    if (!sameRequest(existing, req)) throw new DeliveryError('DLV_ERR_ID_CONFLICT', 409, `delivery ${existing.id} exists with a different request`);
    if (durable) await durable;
    return { delivery: existing, created: false };
  }

  /** A durable request still in the queue: stage Requested, its one stage change. */
  find(id: string): { delivery: Delivery; history: StageChange[] } | null {
    const q = this.queued.get(id);
    return q && q.end !== null ? { delivery: q.delivery, history: [q.first] } : null;
  }

  /** The durable queued requests a list query matches (all are Requested), in the list's order. */
  matching(f: ListFilter): Delivery[] {
    if (f.stages && !f.stages.includes('Requested')) return [];
    const out: Delivery[] = [];
    for (const { delivery: d, end } of this.queued.values()) {
      if (end === null || (f.owner !== undefined && d.owner !== f.owner) || (f.from !== undefined && d.createdAt < f.from) || (f.to !== undefined && d.createdAt >= f.to)) continue;
      if (f.after && (d.createdAt < f.after.createdAt || (d.createdAt === f.after.createdAt && d.id <= f.after.id))) continue;
      out.push(d);
    }
    return out.sort(byCreated);
  }

  /**
   * Moves a queued request into the table now, whatever the backlog (it is about to be changed:
   * a cancel or a reschedule works on the table's row). No-op when it is not queued.
   */
  async materialize(id: string): Promise<void> {
    const q = this.queued.get(id);
    if (!q) return;
    await q.durable;
    while (this.queued.get(id) === q) {
      if (!await this.run(() => this.drainBatch(this.deps.options.drainBatchMax))) throw new DeliveryError('DLV_ERR_INTERNAL', 500, `delivery ${id} could not leave the ingestion queue`);
    }
  }

  /** One drainer pass: batches while the table has room for them (less while the loop is busy). */
  private async drainDue(): Promise<void> {
    const now = performance.eventLoopUtilization();
    if (performance.eventLoopUtilization(now, this.elu).utilization > this.deps.options.busyUtilization) this.busyAt = this.deps.clock.now();
    this.elu = now;
    const busy = this.busyAt !== null && this.deps.clock.now() - this.busyAt <= this.deps.options.busyHoldMs;
    if (this.ready.length === 0 || this.stopped) return;
    const { tableBacklogMax, busyDrainPerSec, drainEveryMs } = this.deps.options;
    let room = tableBacklogMax - await this.deps.repo.countByStage(['Requested'], tableBacklogMax);
    if (busy) {
      this.stats.busyTicks += 1;
      room = Math.min(room, Math.max(1, Math.round((busyDrainPerSec * drainEveryMs) / 1000)));
    }
    while (room > 0 && this.ready.length > 0 && !this.stopped) {
      room -= await this.drainBatch(room);
      // Requests arriving meanwhile are answered before the next batch.
      await new Promise((r) => setImmediate(r));
    }
  }

  /** Drains up to `limit` requests in one transaction (with the position they reach); returns how many. */
  private async drainBatch(limit: number): Promise<number> {
    const batch = this.ready.slice(0, Math.min(limit, this.deps.options.drainBatchMax));
    if (batch.length === 0) return 0;
    const position = batch.at(-1)!.end!;
    const created = await this.deps.repo.drainQueue(this.deps.queue.id, batch.map((q) => ({ delivery: q.delivery, first: q.first })), position);
    this.ready.splice(0, batch.length);
    this.stats.drained += batch.length;
    this.stats.batches += 1;
    const late: Queued[] = [];
    batch.forEach((q, k) => {
      const id = q.delivery.id;
      if (this.queued.get(id) === q) this.queued.delete(id);
      this.known.add(id);
      if (created[k]) this.deps.onDrained(q.delivery, q.first);
      else late.push(q);
    });
    // Not created: the id was in the table already. The same request is the same delivery
    // (exactly once); another one was accepted here while another instance created the id.
    for (const q of late) {
      const existing = await this.deps.repo.get(q.delivery.id);
      if (existing && !sameRequest(existing, requestOf(q.delivery))) {
        this.stats.lateConflicts += 1;
        this.deps.onError(new DeliveryError('DLV_ERR_ID_CONFLICT_LATE', 409, `delivery ${q.delivery.id} (correlation ${q.delivery.correlationId}) was accepted here, but another instance had created it with another request; route creates by id`));
      }
    }
    await this.deps.queue.consumed(position);
    return batch.length;
  }

  /** One drain at a time (the timer's, or a materialize); an error is reported and the next try goes on. */
  private run<T>(fn: () => Promise<T>): Promise<T | undefined> {
    const next = this.chain.then(fn).catch((err: unknown) => {
      this.deps.onError(err);
      return undefined;
    });
    this.chain = next;
    return next;
  }
}

/** The request a queued delivery was built from (what `sameRequest` compares). */
function requestOf(d: Delivery): DeliveryRequest {
  return { pickup: d.pickup, dropoff: d.dropoff, owner: d.owner, window: d.window };
}

function byCreated(a: Delivery, b: Delivery): number {
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** A page of the table merged with the queued requests matching the same filter (ids unique, table first). */
export function mergePage(table: readonly Delivery[], queued: readonly Delivery[], limit: number): Delivery[] {
  const seen = new Set(table.map((d) => d.id));
  return [...table, ...queued.filter((d) => !seen.has(d.id))].sort(byCreated).slice(0, limit);
}
