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
    // A delivery durable (202 answered) whose saga row was not yet written when the process died.
    for (const d of await this.deliveries.listByStage(['Requested'], 100_000)) await this.runner.start(d.id, { deliveryId: d.id });
    // Reservations of deliveries that ended while this process was down.
    for (const r of await this.store.reservations()) {
      const d = await this.deliveries.get(r.holder);
      const saga = await this.store.getSaga(r.holder);
      const sagaDone = !saga || saga.status === 'completed' || saga.status === 'failed';
      if (sagaDone && (!d || FINAL_STAGES.has(d.stage))) await this.store.releaseDrone(r.droneId, r.holder);
    }
    const unfinished = await this.store.unfinishedSagas(100_000);
    for (const s of unfinished) await this.runner.run(s.id, { now: true });
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

  private async runDue(): Promise<void> {
    const fresh = [...this.fresh].slice(0, this.beginPerTick);
    for (const id of fresh) {
      this.fresh.delete(id);
      await this.runner.start(id, { deliveryId: id });
      await this.runner.run(id, { now: true });
    }
    for (const s of await this.store.dueSagas(this.clock.now(), 500)) await this.runner.run(s.id);
  }
}
