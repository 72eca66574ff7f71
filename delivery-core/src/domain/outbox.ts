import type { Clock } from '@aerie/contracts';
import type { Json, OutboxDraft } from './saga.js';

/** An event in the outbox table: written in the same transaction as the state change it records. */
export interface OutboxEvent extends OutboxDraft {
  /** Insertion order, assigned by the store; the relay publishes in this order. */
  seq: number;
  createdAt: number;
}

/** The outbox as the relay sees it. */
export interface OutboxSource {
  /** Unsent events, oldest first. */
  unsent(limit: number): Promise<OutboxEvent[]>;
  markSent(ids: readonly string[], now: number): Promise<void>;
}

/** Where events go (the fleet bus, an event stream, in-process listeners); may fail transiently. */
export interface EventPublisher {
  publish(e: OutboxEvent): Promise<void>;
}

export interface RelayOptions {
  /** How often to look for unsent events (ms). */
  everyMs: number;
  batch: number;
}

/**
 * The transactional-outbox relay (Richardson, "Microservices Patterns", §3.3.7): read unsent
 * events, publish each, then mark them sent. A crash between publish and mark publishes again
 * on restart — at-least-once by design, so every event carries a stable id and consumers drop
 * ids they have seen (`Deduplicator`). A publish failure stops the pass (order is kept) and the
 * next tick retries.
 */
export class OutboxRelay {
  private timer: unknown = null;
  private running: Promise<number> | null = null;
  readonly stats = { published: 0, failures: 0 };

  constructor(
    private readonly source: OutboxSource,
    private readonly publisher: EventPublisher,
    private readonly clock: Clock,
    private readonly opts: Readonly<RelayOptions> = { everyMs: 200, batch: 100 },
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  start(): void {
    this.timer ??= this.clock.setInterval(() => void this.relayOnce().catch(this.onError), this.opts.everyMs);
  }

  async stop(): Promise<void> {
    if (this.timer !== null) this.clock.clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  /** One pass; overlapping calls share it. Resolves with the number published. */
  relayOnce(): Promise<number> {
    this.running ??= this.pass().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Passes until nothing is left (or a publish fails). */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.relayOnce();
      total += n;
      if (n < this.opts.batch) return total;
    }
  }

  private async pass(): Promise<number> {
    const events = await this.source.unsent(this.opts.batch);
    const sent: string[] = [];
    try {
      for (const e of events) {
        await this.publisher.publish(e);
        sent.push(e.id);
        this.stats.published += 1;
      }
    } catch (err) {
      this.stats.failures += 1;
      this.onError(err);
    }
    if (sent.length > 0) await this.source.markSent(sent, this.clock.now());
    return sent.length;
  }
}

/** The consumer's record of handled event ids (an inbox table, or memory for a process-local consumer). */
export interface SeenIds {
  has(id: string): Promise<boolean>;
  add(id: string): Promise<void>;
}

/**
 * Consumer-side dedupe: the handler runs once per event id however often the relay delivers it.
 * Deliveries are handled one at a time in arrival order, so two copies arriving together (a
 * redelivery in the same packet burst) cannot both pass the check.
 */
export class Deduplicator {
  readonly stats = { handled: 0, duplicates: 0 };
  private tail: Promise<void> = Promise.resolve();
  constructor(private readonly seen: SeenIds, private readonly handler: (e: OutboxEvent) => Promise<void> | void) {}

  deliver(e: OutboxEvent): Promise<void> {
    const run = this.tail.then(() => this.handle(e));
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async handle(e: OutboxEvent): Promise<void> {
    if (await this.seen.has(e.id)) {
      this.stats.duplicates += 1;
      return;
    }
    // Recorded after the handler: a handler that throws is delivered again, not lost.
    await this.handler(e);
    await this.seen.add(e.id);
    this.stats.handled += 1;
  }
}

/** A bounded in-memory id set: the most recent `capacity` ids (a Map iterates oldest first). */
export class RecentIds implements SeenIds {
  private readonly ids = new Map<string, true>();
  constructor(private readonly capacity = 100_000) {}

  has(id: string): Promise<boolean> {
    return Promise.resolve(this.ids.has(id));
  }

  add(id: string): Promise<void> {
    this.ids.set(id, true);
    for (const k of this.ids.keys()) {
      if (this.ids.size <= this.capacity) break;
      this.ids.delete(k);
    }
    return Promise.resolve();
  }
}

export type { Json };
