import { haversineM, type Clock, type DeliveryAssignment } from '@aerie/contracts';
import { FINAL_STAGES, type Delivery, type StageChange } from '../domain/delivery.js';
import type { BackoffPolicy } from '../domain/retry.js';
import { PermanentError, TransientError, waiting } from '../domain/saga-errors.js';
import type { OutboxDraft, SagaData, SagaDefinition, SagaState } from '../domain/saga.js';
import type { DeliveryRepository } from '../ports.js';
import type { MissionHub, WorkflowStore } from './ports.js';

/** What the scheduler decided for a delivery; held in memory until the saga's reserve step takes it. */
export interface Proposal {
  droneId: string;
  eta: number;
}

export interface DeliverySagaContext {
  deliveries: DeliveryRepository;
  store: WorkflowStore;
  /** Already behind its retry and circuit breaker. */
  hub: MissionHub;
  clock: Clock;
  proposals: Map<string, Proposal>;
  limits: {
    maxPayloadKg: number; maxRangeM: number; defaultPackageKg: number;
    /** Why the delivery's window or deadline can no longer be met by any drone (domain/delivery.ts windowMissed), or null. */
    windowMissed?: (d: Delivery, now: number) => string | null;
  };
  /** How long a saga waiting for the scheduler sleeps before looking again (the scheduler wakes it sooner). */
  waitForDroneMs: number;
  /** How long the hub has to answer a dispatched assignment before it is sent again (ms). */
  hubReplyTimeoutMs: number;
  requireRegisteredAccount: boolean;
  assignmentOf(d: Delivery, droneId: string, action: DeliveryAssignment['action']): DeliveryAssignment;
  /** Stage changes the saga makes, for the service's live listeners. */
  onStage(d: Delivery, change: StageChange): void;
}

const str = (data: Readonly<SagaData>, k: string): string => {
  const v = data[k];
  if (typeof v !== 'string') throw new PermanentError('DLV_SAGA_UNEXPECTED', `saga data has no ${k}`);
  return v;
};

async function load(ctx: DeliverySagaContext, id: string): Promise<Delivery> {
  const d = await ctx.deliveries.get(id);
  if (!d) throw new PermanentError('DLV_SAGA_NO_DELIVERY', `no delivery ${id}`);
  return d;
}

/** Only a Requested delivery is taken further; a cancelled one stops the saga (and is left Cancelled). */
async function loadRequested(ctx: DeliverySagaContext, id: string): Promise<Delivery> {
  const d = await load(ctx, id);
  if (FINAL_STAGES.has(d.stage)) throw new PermanentError('DLV_SAGA_DELIVERY_ENDED', `delivery ${id} is ${d.stage}`);
  return d;
}

/**
 * A delivery re-planned after a reschedule (DeliveryWorkflow.replan) is scheduled again: its
 * stage change and event need ids of their own, or the store and the outbox drop them as repeats.
 */
function roundSuffix(data: Readonly<SagaData>): string {
  return typeof data.round === 'number' && data.round > 0 ? `:${data.round}` : '';
}

async function releaseHeld(ctx: DeliverySagaContext, id: string): Promise<void> {
  const held = await ctx.store.heldBy(id);
  if (held) await ctx.store.releaseDrone(held, id);
}

/**
 * Issue 7's delivery workflow as a saga (Garcia-Molina & Salem, "Sagas", SIGMOD 1987): each
 * step's effect is undone by its compensation, in reverse order, when a later step fails for
 * good. The saga id is the delivery id, so every idempotency key derives from it.
 */
export function deliverySaga(backoff: BackoffPolicy, hubReplyAttempts = 12): SagaDefinition<DeliverySagaContext> {
  return {
    kind: 'delivery',
    backoff,
    steps: [
      {
        name: 'check-account',
        async execute(ctx, data) {
          const d = await loadRequested(ctx, str(data, 'deliveryId'));
          if (d.owner === null) return { owner: null };
          const account = await ctx.store.getAccount(d.owner);
          if (!account) {
            if (ctx.requireRegisteredAccount) throw new PermanentError('DLV_SAGA_ACCOUNT_UNKNOWN', `account ${d.owner} is not registered`);
            return { owner: d.owner };
          }
          if (account.status !== 'active') throw new PermanentError('DLV_SAGA_ACCOUNT_SUSPENDED', `account ${d.owner} is ${account.status}`);
          return { owner: d.owner };
        },
      },
      {
        name: 'create-package',
        // A package registered for this delivery (PUT /packages with deliveryId) is used; otherwise
        // one of the default weight is created under an id derived from the delivery's.
        async execute(ctx, data) {
          const id = str(data, 'deliveryId');
          const d = await loadRequested(ctx, id);
          let pkg = await ctx.store.packageOfDelivery(id);
          if (!pkg) {
            const pkgId = `pkg-${id}`;
            await ctx.store.insertPackage({
              id: pkgId, owner: d.owner, size: 'small', weightKg: ctx.limits.defaultPackageKg, tag: null, deliveryId: null, createdAt: ctx.clock.now(),
            });
            if (!(await ctx.store.bindPackage(pkgId, id))) throw new PermanentError('DLV_SAGA_PACKAGE_BOUND', `package ${pkgId} is carried by another delivery`);
            pkg = await ctx.store.getPackage(pkgId);
          }
          if (!pkg) throw new TransientError('DLV_SAGA_UNEXPECTED', `package of ${id} vanished`);
          return { packageId: pkg.id, weightKg: pkg.weightKg };
        },
        async compensate(ctx, data) {
          const id = str(data, 'deliveryId');
          const pkg = await ctx.store.packageOfDelivery(id);
          if (pkg) await ctx.store.unbindPackage(pkg.id, id);
        },
      },
      {
        name: 'reserve-drone',
        async execute(ctx, data) {
          const id = str(data, 'deliveryId');
          const d = await loadRequested(ctx, id);
          const weightKg = typeof data.weightKg === 'number' ? data.weightKg : ctx.limits.defaultPackageKg;
          // Hard limits no drone of the fleet can ever meet: waiting would not help.
          if (weightKg > ctx.limits.maxPayloadKg) throw new PermanentError('DLV_SAGA_NO_DRONE_FITS', `package ${weightKg} kg > payload limit ${ctx.limits.maxPayloadKg} kg`);
          const tripM = haversineM(d.pickup, d.dropoff);
          if (tripM > ctx.limits.maxRangeM) throw new PermanentError('DLV_SAGA_NO_DRONE_FITS', `trip ${Math.round(tripM)} m > range ${ctx.limits.maxRangeM} m`);
          // A reservation made before a crash is this saga's: keep it rather than hold two drones.
          const held = await ctx.store.heldBy(id);
          const proposal = ctx.proposals.get(id);
          if (held) return { droneId: held, eta: proposal?.droneId === held ? proposal.eta : null };
          // A window no drone can make any more (and no drone held for it) fails now, with its reason, rather than waiting forever.
          const missed = ctx.limits.windowMissed?.(d, ctx.clock.now());
          if (missed) throw new PermanentError('DLV_SAGA_WINDOW_MISSED', missed);
          if (!proposal) throw waiting('DLV_SAGA_WAITING_FOR_DRONE', `no drone proposed for ${id} yet`, ctx.clock.now() + ctx.waitForDroneMs);
          ctx.proposals.delete(id);
          if (!(await ctx.store.reserveDrone(proposal.droneId, id, ctx.clock.now()))) {
            throw waiting('DLV_SAGA_DRONE_BUSY', `drone ${proposal.droneId} is reserved by another delivery`);
          }
          return { droneId: proposal.droneId, eta: proposal.eta };
        },
        compensate: (ctx, data) => releaseHeld(ctx, str(data, 'deliveryId')),
      },
      {
        name: 'dispatch-mission',
        async execute(ctx, data) {
          const d = await loadRequested(ctx, str(data, 'deliveryId'));
          // The answer to this dispatch must come after it (a re-planned delivery dispatches again).
          // Taken before sending: a hub answering within the call (the in-memory link does) was
          // read as an older answer once the clock had ticked, and the saga waited for ever
          // (the tracking page test, under load).
          const dispatchedAt = ctx.clock.now();
          await ctx.hub.dispatch(ctx.assignmentOf(d, str(data, 'droneId'), 'fly'));
          return { dispatchedAt };
        },
        async compensate(ctx, data) {
          const id = str(data, 'deliveryId');
          const droneId = typeof data.droneId === 'string' ? data.droneId : await ctx.store.heldBy(id);
          const d = await ctx.deliveries.get(id);
          // The hub ends the delivery's tracking by this reason: DeliveryCancelled or DeliveryFailed.
          if (d && droneId) await ctx.hub.abort({ ...ctx.assignmentOf(d, droneId, 'abort'), abortReason: d.stage === 'Cancelled' ? 'cancelled' : 'failed' });
        },
      },
      {
        // The hub's DispatchReply: accepted once the drone started the mission, or refused for good
        // (unknown, offline past the hub's limit, busy, mission rejected by the flight controller),
        // which compensates: abort, release the drone, unbind the package, Failed with the reason.
        // The wait is durable (a restarted core resumes it; the hub answers a re-sent assignment
        // again) and never blocks the runner: the answer wakes the saga.
        name: 'await-hub-answer',
        maxAttempts: hubReplyAttempts,
        async execute(ctx, data) {
          const id = str(data, 'deliveryId');
          const droneId = str(data, 'droneId');
          const d = await loadRequested(ctx, id);
          // A saga that was past dispatch when this step was added has no time: treat its wait as over.
          const since = typeof data.dispatchedAt === 'number' ? data.dispatchedAt : 0;
          const deadline = since + ctx.hubReplyTimeoutMs;
          // Past the deadline the hub sends the assignment again and fails the call (transient): retried
          // with backoff, in process and then durably, each try counted by the circuit breaker.
          const answer = await ctx.hub.answer(ctx.assignmentOf(d, droneId, 'fly'), since, deadline);
          if (!answer) throw waiting('DLV_SAGA_AWAITING_HUB', `no answer from the hub for ${id} yet`, deadline);
          if (answer.outcome === 'refused') {
            throw new PermanentError('DLV_SAGA_MISSION_REJECTED', `${answer.reason}: ${answer.detail}${answer.mavResult ? ` (${answer.mavResult})` : ''}`);
          }
        },
      },
      {
        name: 'create-delivery',
        async execute(ctx, data) {
          const id = str(data, 'deliveryId');
          const droneId = str(data, 'droneId');
          const now = ctx.clock.now();
          const eta = typeof data.eta === 'number' ? data.eta : null;
          const change: StageChange = { stage: 'Scheduled', at: now, eventId: `${id}:scheduled${roundSuffix(data)}` };
          // Read and write in one transaction (the row stays as read): the hub's first tracking
          // event comes with its answer, and a Scheduled written over the HeadedToPickup it
          // recorded in between moved the stage backwards (bench:faults).
          const written = await ctx.deliveries.batch(async (tx) => {
            const d = await loadRequested({ ...ctx, deliveries: tx }, id);
            if (d.stage !== 'Requested') {
              // Done before a crash, or the hub's tracking overtook us; either way it is this drone's.
              if (d.droneId !== null && d.droneId !== droneId) throw new PermanentError('DLV_SAGA_DRONE_TAKEN', `delivery ${id} flies with ${d.droneId}`);
              return 'overtaken' as const;
            }
            return await tx.advance(id, change, { droneId, eta, etaAtDispatch: eta }) ? d : null;
          });
          if (written === 'overtaken') return;
          if (written !== null) {
            ctx.onStage({ ...written, stage: 'Scheduled', droneId, eta, etaAtDispatch: eta, updatedAt: now }, change);
            return;
          }
          const after = await loadRequested(ctx, id);
          if (after.stage === 'Requested' || after.droneId !== droneId) throw new PermanentError('DLV_SAGA_DRONE_TAKEN', `drone ${droneId} already has an active delivery`);
        },
        events: (data) => [{
          id: `${str(data, 'deliveryId')}:scheduled${roundSuffix(data)}`, type: 'DeliveryScheduled', aggregateId: str(data, 'deliveryId'),
          payload: { deliveryId: data.deliveryId ?? null, owner: data.owner ?? null, droneId: data.droneId ?? null, eta: data.eta ?? null, packageId: data.packageId ?? null },
        }],
      },
    ],
    async onFailed(ctx, s) {
      const id = str(s.data, 'deliveryId');
      const d = await ctx.deliveries.get(id);
      if (!d || FINAL_STAGES.has(d.stage)) return;
      const change: StageChange = { stage: 'Failed', at: ctx.clock.now(), eventId: `${id}:failed` };
      const failureReason = `${s.error?.code ?? 'DLV_SAGA_UNEXPECTED'}: ${s.error?.message ?? ''}`;
      if (await ctx.deliveries.advance(id, change, { eta: null, failureReason })) ctx.onStage({ ...d, stage: 'Failed', eta: null, failureReason, updatedAt: change.at }, change);
    },
    failedEvents: (s: Readonly<SagaState>): OutboxDraft[] => {
      // A delivery the customer cancelled needs no failure notice.
      if (s.error?.code === 'DLV_SAGA_DELIVERY_ENDED') return [];
      const id = str(s.data, 'deliveryId');
      return [{
        id: `${id}:failed`, type: 'DeliveryFailed', aggregateId: id,
        payload: { deliveryId: id, owner: s.data.owner ?? null, step: s.error?.step ?? null, code: s.error?.code ?? null, reason: s.error?.message ?? null },
      }];
    },
  };
}
