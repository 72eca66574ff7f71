import type { Clock, DeliveryAssignment } from '@aerie/contracts';
import { CircuitBreaker, withBreaker } from '../domain/circuit-breaker.js';
import { withRetry } from '../domain/retry.js';
import { Deduplicator, OutboxRelay, RecentIds, type OutboxEvent } from '../domain/outbox.js';
import { FINAL_STAGES, type Delivery, type StageChange } from '../domain/delivery.js';
import type { SagaState } from '../domain/saga.js';
import type { DeliveryRepository } from '../ports.js';
import { deliverySaga, type DeliverySagaContext, type Proposal } from './delivery-saga.js';
import { defaultWorkflowOptions, type WorkflowOptions } from './options.js';
import type { MissionHub, WorkflowStore } from './ports.js';
import { SagaRunner } from './saga-runner.js';
import { Supervisor } from './supervisor.js';

export interface WorkflowDeps {
  deliveries: DeliveryRepository;
  store: WorkflowStore;
  /** The raw hub; the workflow puts it behind retry and a circuit breaker. */
  hub: MissionHub;
  clock: Clock;
  limits: DeliverySagaContext['limits'];
  assignmentOf(d: Delivery, droneId: string, action: DeliveryAssignment['action']): DeliveryAssignment;
  onStage?(d: Delivery, change: StageChange): void;
  options?: Partial<WorkflowOptions>;
  onError?(err: unknown): void;
  random?: () => number;
}

/**
 * The delivery workflow: one saga per delivery (check the account, create the package, reserve
 * a drone, dispatch the mission through the hub, create the delivery), its Supervisor, and the
 * outbox relay that publishes the saga's events. The scheduler decides which drone; the saga
 * makes that decision happen exactly once, or undoes it.
 */
export class DeliveryWorkflow {
  readonly options: Readonly<WorkflowOptions>;
  readonly hubBreaker: CircuitBreaker;
  /** The event bus's breaker (issue 7: a circuit breaker per dependency). */
  readonly busBreaker: CircuitBreaker;
  readonly runner: SagaRunner<DeliverySagaContext>;
  readonly supervisor: Supervisor<DeliverySagaContext>;
  readonly relay: OutboxRelay;
  private readonly proposals = new Map<string, Proposal>();
  private readonly consumers: Deduplicator[] = [];
  /** Set by stop(): a scheduler pass still under way proposes nothing more to a closing store. */
  private stopped = false;

  constructor(private readonly deps: WorkflowDeps) {
    const o = { ...defaultWorkflowOptions, ...deps.options };
    this.options = Object.freeze(o);
    const onError = (err: unknown) => deps.onError?.(err);
    this.hubBreaker = new CircuitBreaker('hub', o.hubBreaker, deps.clock);
    // Retry outside the breaker: every try counts toward opening it, and an open circuit ends the retries.
    const hub = withRetry(withBreaker(deps.hub, this.hubBreaker), o.hubRetry, deps.clock, deps.random);
    const ctx: DeliverySagaContext = {
      deliveries: deps.deliveries, store: deps.store, hub, clock: deps.clock, proposals: this.proposals, limits: deps.limits,
      waitForDroneMs: o.waitForDroneMs, hubReplyTimeoutMs: o.hubReplyTimeoutMs, requireRegisteredAccount: o.requireRegisteredAccount, assignmentOf: (d, droneId, action) => deps.assignmentOf(d, droneId, action), onStage: (d, c) => deps.onStage?.(d, c),
    };
    this.runner = new SagaRunner(deliverySaga(o.sagaBackoff, o.hubReplyAttempts), deps.store, ctx, deps.clock, {
      ...(deps.random ? { random: deps.random } : {}),
      lease: { owner: o.instanceId, ms: o.sagaLeaseMs },
      onError: (_id, err) => onError(err),
    });
    this.supervisor = new Supervisor(this.runner, deps.store, deps.deliveries, deps.clock, o.superviseEveryMs, onError);
    // A bus that keeps failing is left alone for openMs rather than tried on every relay tick;
    // only transient failures count (TransientError, as MqttOutboxPublisher throws when offline).
    this.busBreaker = new CircuitBreaker('bus', o.busBreaker, deps.clock);
    this.relay = new OutboxRelay(deps.store, { publish: (e) => this.busBreaker.call(() => this.fanOut(e)) }, deps.clock, { everyMs: o.relayEveryMs, batch: o.relayBatch }, onError);
    // The hub answered a dispatch: the saga waiting for it goes on now, not at its next try.
    deps.hub.onAnswer?.((id) => {
      if (!this.stopped) void this.runner.run(id, { now: true }).catch(onError);
    });
  }

  /**
   * A delivery was accepted (durable): its saga starts on the Supervisor's next tick, at the
   * workflow's pace rather than the API's (load levelling). A crash before that loses nothing:
   * the Supervisor starts a saga for every Requested delivery without one at start.
   */
  accepted(deliveryId: string): void {
    this.supervisor.enqueue(deliveryId);
  }

  /** Starts the saga of an accepted delivery and runs its first steps now. */
  async begin(deliveryId: string): Promise<SagaState | null> {
    if (this.stopped) return null;
    await this.runner.start(deliveryId, { deliveryId });
    return this.runner.run(deliveryId, { now: true });
  }

  /**
   * The scheduler's decision for a delivery: the saga reserves that drone and carries on. True
   * when the delivery is now Scheduled with it. A proposal not taken at once is dropped: the
   * next scheduler pass decides again with fresh statuses.
   */
  async propose(deliveryId: string, droneId: string, eta: number): Promise<boolean> {
    if (this.stopped) return false;
    await this.runner.start(deliveryId, { deliveryId });
    this.proposals.set(deliveryId, { droneId, eta });
    try {
      const s = await this.runner.run(deliveryId, { now: true });
      return s?.status === 'completed' && s.data.droneId === droneId;
    } finally {
      this.proposals.delete(deliveryId);
    }
  }

  /**
   * A dispatched delivery goes back to planning (a reschedule before take-off; the service has
   * moved the row back to Requested and tells the hub to abort): its saga returns to the reserve
   * step, to take the scheduler's next proposal, with a new round so the next Scheduled is
   * recorded afresh, and DeliveryRescheduled leaves through the outbox in the same write; then
   * `fromDroneId` is released. Only while the saga still holds that drone past its reserve step
   * (dispatched, or completed): so it can be called again after a crash, and does nothing once
   * the delivery has been re-planned. True when it re-planned now.
   */
  async replan(deliveryId: string, fromDroneId: string, event: { id: string; payload: Record<string, string | number | null> }): Promise<boolean> {
    const reserve = this.runner.stepIndex('reserve-drone');
    for (let tries = 0; tries < 5; tries++) {
      const s = await this.deps.store.getSaga(deliveryId);
      if (!(await this.replanPending(deliveryId, fromDroneId)) || !s) return false;
      const { droneId: _drone, eta: _eta, ...data } = s.data;
      const now = this.deps.clock.now();
      const next: SagaState = {
        ...s, status: 'running', step: reserve, attempts: 0, nextAttemptAt: now, error: null, version: s.version + 1, updatedAt: now,
        data: { ...data, round: (typeof s.data.round === 'number' ? s.data.round : 0) + 1 },
      };
      // Over the version read: a step that ran meanwhile makes this try again on what it wrote.
      if (await this.deps.store.saveSaga(next, [{ id: event.id, type: 'DeliveryRescheduled', aggregateId: deliveryId, payload: event.payload }])) {
        await this.deps.store.releaseDrone(fromDroneId, deliveryId);
        return true;
      }
    }
    return false;
  }

  /** Whether the delivery's saga still holds `droneId` past its reserve step (dispatched or completed): a re-plan to do. */
  async replanPending(deliveryId: string, droneId: string): Promise<boolean> {
    if ((await this.deps.store.heldBy(deliveryId)) !== droneId) return false;
    const s = await this.deps.store.getSaga(deliveryId);
    return s !== null && (s.status === 'completed' || (s.status === 'running' && s.step > this.runner.stepIndex('reserve-drone')));
  }

  /** The drone the delivery's saga holds, if any. */
  heldDrone(deliveryId: string): Promise<string | null> {
    return this.deps.store.heldBy(deliveryId);
  }

  /** Drones held by sagas (reserved, perhaps not yet Scheduled): not to be planned for anyone else. */
  async reserved(): Promise<{ drones: Set<string>; holders: Set<string> }> {
    const rs = await this.deps.store.reservations();
    return { drones: new Set(rs.map((r) => r.droneId)), holders: new Set(rs.map((r) => r.holder)) };
  }

  /** The weight of each delivery's package, for the planner's payload constraint; absent: not bound yet (kg). */
  async packageWeights(deliveryIds: readonly string[]): Promise<Map<string, number>> {
    const pkgs = await this.deps.store.packagesOfDeliveries(deliveryIds);
    return new Map([...pkgs].map(([id, p]) => [id, p.weightKg]));
  }

  /** A delivery that ended (completed, cancelled, failed in flight) frees its drone for the next. */
  async stageChanged(d: Delivery): Promise<void> {
    if (!FINAL_STAGES.has(d.stage)) return;
    const held = await this.deps.store.heldBy(d.id);
    if (held) await this.deps.store.releaseDrone(held, d.id);
  }

  /** A consumer of the outbox's events, deduplicated by event id (the relay delivers at least once). */
  onEvent(handler: (e: OutboxEvent) => Promise<void> | void): Deduplicator {
    const consumer = new Deduplicator(new RecentIds(), handler);
    this.consumers.push(consumer);
    return consumer;
  }

  private async fanOut(e: OutboxEvent): Promise<void> {
    for (const c of this.consumers) await c.deliver(e);
  }

  /** Supervisor recovery, then the periodic supervisor and relay. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.supervisor.resume();
    this.supervisor.start();
    this.relay.start();
    await this.relay.drain();
  }

  /** Stops both timers at once (synchronously), then waits for what is in flight. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([this.supervisor.stop(), this.relay.stop()]);
    // Its sagas' leases back, so the other instances go on with them without waiting for the expiry.
    await this.runner.releaseLeases().catch((err: unknown) => this.deps.onError?.(err));
  }
}
