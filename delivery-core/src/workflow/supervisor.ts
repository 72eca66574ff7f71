import type { Clock } from '@aerie/contracts';
import { FINAL_STAGES } from '../domain/delivery.js';
import type { DeliveryRepository } from '../ports.js';
import type { SagaRunner } from './saga-runner.js';
import type { SagaStore } from './ports.js';

/**
 * The Supervisor of issue 7: at start it resumes every saga a crash left unfinished (and
 * starts the saga of a delivery accepted just before the crash), and on every tick it runs the
 * sagas whose backoff has passed — forward, or through their compensations.
 */
export class Supervisor<C> {
  private timer: unknown = null;
  private ticking: Promise<void> | null = null;
  private fresh = new Set<string>();
  /** New sagas begun per tick at most: the rest wait for the next (load levelling). */
  private readonly beginPerTick = 200;
  /** Sagas run side by side, between two yields to the event loop's I/O phase. */
  private readonly perChunk = 20;

  constructor(
    private readonly runner: SagaRunner<C>,
    private readonly store: SagaStore,
    private readonly deliveries: DeliveryRepository,
    private readonly clock: Clock,
    private readonly everyMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Recovery at start: idempotent, so two instances starting on one database do no harm. */
  async resume(): Promise<number> {
    // A recovery that cannot write stops the start, as before the chunking.
    const fail = (err: unknown) => {
      throw err;
    };
    // A delivery durable (202 answered) whose saga row was not yet written when the process died.
    await this.chunked((await this.deliveries.listByStage(['Requested'], 100_000)).map((d) => d.id), (id) => this.runner.start(id, { deliveryId: id }), fail);
    // Reservations of deliveries that ended while this process was down.
    for (const r of await this.store.reservations()) {
      const d = await this.deliveries.get(r.holder);
      const saga = await this.store.getSaga(r.holder);
      const sagaDone = !saga || saga.status === 'completed' || saga.status === 'failed';
      if (sagaDone && (!d || FINAL_STAGES.has(d.stage))) await this.store.releaseDrone(r.droneId, r.holder);
    }
    const unfinished = await this.store.unfinishedSagas(100_000);
    await this.chunked(unfinished.map((s) => s.id), (id) => this.runner.run(id, { now: true }), fail);
    return unfinished.length;
  }

  start(): void {
    this.timer ??= this.clock.setInterval(() => void this.tick(), this.everyMs);
  }

  async stop(): Promise<void> {
    if (this.timer !== null) this.clock.clearInterval(this.timer);
    this.timer = null;
    await this.ticking;
    await this.runner.idle();
  }

  /** One pass over the due sagas; a tick finding the previous one still running is skipped. */
  tick(): Promise<void> {
    this.ticking ??= this.runDue().catch(this.onError).finally(() => {
      this.ticking = null;
    });
    return this.ticking;
  }

  /** A delivery just accepted, whose saga is to begin on the next tick. */
  enqueue(deliveryId: string): void {
    this.fresh.add(deliveryId);
  }

  /**
   * Load levelling: the saga work of a tick is bounded (beginPerTick new sagas, 500 due ones)
   * and runs in chunks: the sagas of a chunk run side by side, so their writes share the store's
   * group commit (one WAL fsync for the chunk's step, not one per saga per step), and between
   * chunks the loop yields to the I/O phase (setImmediate), so requests arriving meanwhile are
   * accepted rather than queued behind hundreds of saga steps.
   */
  private async runDue(): Promise<void> {
    const fresh: string[] = [];
    for (const id of this.fresh) {
      if (fresh.length >= this.beginPerTick) break;
      fresh.push(id);
      this.fresh.delete(id);
    }
    await this.chunked(fresh, async (id) => {
      await this.runner.start(id, { deliveryId: id });
      await this.runner.run(id, { now: true });
    });
    await this.chunked((await this.store.dueSagas(this.clock.now(), 500)).map((s) => s.id), (id) => this.runner.run(id));
  }

  /** Runs `each` over the ids, `perChunk` at a time, yielding between chunks; an error goes to `onError` (by default reported, the rest go on). */
  private async chunked(ids: readonly string[], each: (id: string) => Promise<unknown>, onError: (err: unknown) => void = this.onError): Promise<void> {
    for (let i = 0; i < ids.length; i += this.perChunk) {
      for (const r of await Promise.allSettled(ids.slice(i, i + this.perChunk).map(each))) {
        if (r.status === 'rejected') onError(r.reason);
      }
      if (i + this.perChunk < ids.length) await yieldToIo();
    }
  }
}

/** Lets pending I/O callbacks (incoming requests, commits) run before the next chunk. */
export function yieldToIo(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
