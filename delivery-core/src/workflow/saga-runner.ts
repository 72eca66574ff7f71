import type { Clock } from '@aerie/contracts';
import {
  begin, compensated, compensationFailed, idempotencyKey, isFinal, stepDone, stepFailed,
  type SagaData, type SagaDefinition, type SagaState, type Transition,
} from '../domain/saga.js';
import { errorCode, StepError } from '../domain/saga-errors.js';
import type { SagaStore } from './ports.js';

export interface RunnerOptions {
  random?: () => number;
  /** A step or compensation that threw something unclassified (a bug, a driver error); classified outcomes are counted only. */
  onError?: (sagaId: string, err: unknown) => void;
  /**
   * Several instances on one database: this instance's id and how long a claimed saga stays its
   * own (ms). A saga is driven only under this instance's lease (SagaStore.claimSaga), renewed on
   * each run; another instance's saga is left alone until its lease expires (that instance died).
   */
  lease?: { owner: string; ms: number };
}

/**
 * Drives sagas of one definition against their durable state: executes the due step, persists
 * the transition (with its outbox events) before moving on, and stops at the first failure,
 * final state, or lost race. Runs of one saga in this process are serialised; across processes
 * a lease (RunnerOptions.lease) lets one instance drive it, and the store's version check lets
 * only one transition win should two ever race (the loser re-reads); steps are idempotent, so a
 * step run twice is harmless.
 */
export class SagaRunner<C> {
  private readonly inFlight = new Map<string, Promise<SagaState | null>>();
  /** The leases this instance holds, saga id → expiry: one still good for half its time is not claimed again. */
  private readonly leases = new Map<string, number>();
  readonly stats = { steps: 0, retries: 0, compensations: 0, lostRaces: 0, notOwned: 0, failuresByCode: {} as Record<string, number> };

  constructor(
    private readonly def: SagaDefinition<C>,
    private readonly store: SagaStore,
    private readonly ctx: C,
    private readonly clock: Clock,
    private readonly opts: RunnerOptions = {},
  ) {}

  /** Creates the saga if it does not exist yet (idempotent: same id, one saga). */
  async start(id: string, input: SagaData): Promise<void> {
    await this.store.createSaga(begin(this.def.kind, id, input, this.clock.now()));
  }

  /**
   * Runs the saga as far as it goes now; resolves with its state after. A run already going here
   * is waited for first. `now`: do not wait out the backoff (a restart, or the awaited event came).
   */
  run(id: string, opts: { now?: boolean } = {}): Promise<SagaState | null> {
    const prev = this.inFlight.get(id);
    const go = () => this.drive(id, opts.now ?? false);
    const next = (prev ? prev.catch(() => null).then(go) : go()).finally(() => {
      if (this.inFlight.get(id) === next) this.inFlight.delete(id);
    });
    this.inFlight.set(id, next);
    return next;
  }

  /** The index of the step named `name` (a saga sent back to it: DeliveryWorkflow.replan). */
  stepIndex(name: string): number {
    const k = this.def.steps.findIndex((st) => st.name === name);
    if (k < 0) throw new Error(`no step ${name} in saga ${this.def.kind}`);
    return k;
  }

  /** Waits for every run in flight (shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight.values()]);
  }

  /** Gives this instance's leases back (shutdown): the others take its sagas over at once. */
  async releaseLeases(): Promise<void> {
    this.leases.clear();
    if (this.opts.lease) await this.store.releaseSagas?.(this.opts.lease.owner);
  }

  /** Whether this instance may drive saga `id` now: always without a lease (one process); else under its own lease. */
  private async owned(id: string): Promise<boolean> {
    const lease = this.opts.lease;
    if (!lease || !this.store.claimSaga) return true;
    const t = this.clock.now();
    if ((this.leases.get(id) ?? 0) > t + lease.ms / 2) return true;
    if (await this.store.claimSaga(id, lease.owner, t, t + lease.ms)) {
      this.leases.set(id, t + lease.ms);
      return true;
    }
    this.leases.delete(id);
    this.stats.notOwned += 1;
    return false;
  }

  private async drive(id: string, now: boolean): Promise<SagaState | null> {
    let s = await this.store.getSaga(id);
    while (s && !isFinal(s) && (now || s.nextAttemptAt <= this.clock.now())) {
      // Claimed (or renewed) before each step, so a long run does not outlive its lease.
      if (!(await this.owned(id))) break;
      now = false;
      const t = await this.transition(s);
      if (!(await this.store.saveSaga(t.next, t.events))) {
        this.stats.lostRaces += 1;
        return this.store.getSaga(id);
      }
      const failedNow = t.next.attempts > s.attempts;
      s = t.next;
      // After a failure the saga waits for its backoff; the Supervisor's tick comes back.
      if (failedNow) break;
    }
    if (s && isFinal(s)) this.leases.delete(id);
    return s;
  }

  private failed(id: string, err: unknown): void {
    const code = errorCode(err);
    this.stats.failuresByCode[code] = (this.stats.failuresByCode[code] ?? 0) + 1;
    if (!(err instanceof StepError)) this.opts.onError?.(id, err);
  }

  private async transition(s: SagaState): Promise<Transition> {
    const now = () => this.clock.now();
    if (s.status === 'running') {
      const step = this.def.steps[s.step]!;
      try {
        const out = await step.execute(this.ctx, s.data, idempotencyKey(s, step.name, 'do'));
        this.stats.steps += 1;
        return stepDone(this.def, s, out, now());
      } catch (err) {
        this.failed(s.id, err);
        const t = stepFailed(this.def, s, err, now(), this.opts.random);
        if (t.next.status === 'running') this.stats.retries += 1;
        return t;
      }
    }
    try {
      if (s.step >= 0) {
        const step = this.def.steps[s.step]!;
        await step.compensate?.(this.ctx, s.data, idempotencyKey(s, step.name, 'undo'));
      } else {
        await this.def.onFailed(this.ctx, s);
      }
      this.stats.compensations += 1;
      return compensated(this.def, s, now());
    } catch (err) {
      this.failed(s.id, err);
      return compensationFailed(this.def, s, err, now(), this.opts.random);
    }
  }
}
