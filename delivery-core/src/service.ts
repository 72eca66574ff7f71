import { randomUUID } from 'node:crypto';
import {
  haversineM, systemClock, type Clock, type DeliveryAssignment, type DeliveryStage, type DeliveryTracking, type DroneStatus, type LatLon,
} from '@aerie/contracts';
import {
  ACTIVE_STAGES, FINAL_STAGES, OPEN_WINDOW, canAdvance, isCancellable, sameRequest, windowMissed, windowProblem,
  type Delivery, type DeliveryRequest, type DeliveryWindow, type StageChange, type StoredRoute, type WindowProblem,
} from './domain/delivery.js';
import { remainingSeconds, type RoutedLegs } from './domain/eta.js';
import { isAvailable } from './domain/assignment.js';
import { SpeedLearner } from './domain/speed-learner.js';
import { courseDeg, groundSpeedMs } from './domain/wind.js';
import type { PlanDrone, PlanJob } from './domain/planner.js';
import { Scheduler, type AssignmentView } from './domain/scheduler.js';
import { DeliveryError } from './errors.js';
import type { DeliveryRepository, FleetLink, IngestQueue, ListFilter } from './ports.js';
import { GroupCommitQueue } from './adapters/group-commit.js';
import { Ingestion, mergePage } from './ingestion.js';
import type { CoreConfig } from './config.js';
import { DeliveryWorkflow } from './workflow/delivery-workflow.js';
import { FleetMissionHub } from './workflow/fleet-mission-hub.js';
import { yieldToIo } from './workflow/supervisor.js';
import { MemoryWorkflowStore } from './workflow/memory-store.js';
import type { WorkflowStore } from './workflow/ports.js';
import type { WorkflowOptions } from './workflow/options.js';

export type StageListener = (d: Delivery, change: StageChange) => void;

const ETA_REFRESH_MS = 2000;
const RESCHEDULABLE: readonly DeliveryStage[] = ['Requested', 'Scheduled'];
const PROPOSALS_PER_CHUNK = 20;
/**
 * How far ahead a pickup window is planned (ms): past the longest approach a drone's range allows
 * (20 km at 12 m/s is under half an hour), so a pair is tentative well before it has to launch.
 */
const PLAN_AHEAD_MS = 60 * 60_000;

/**
 * The delivery workflow: accept requests durably, assign the nearest fit drone from the
 * scheduler loop (load levelling: requests wait in the table, not in memory), follow the
 * hub's DeliveryTracking and keep the ETA current.
 */

/** A tracking event whose write fails this often while the database answers is dropped (logged). */
const POISON_TRIES = 5;
export class DeliveryService {
  private readonly drones = new Map<string, DroneStatus>();
  private readonly lastEtaWrite = new Map<string, number>();
  private readonly listeners: StageListener[] = [];
  private timer: unknown = null;
  private passing = false;
  private readonly trackingQueue: { e: DeliveryTracking; done: (err?: Error) => void }[] = [];
  private draining: Promise<void> | null = null;
  /** Failed writes per tracking event while the database answered (poison detection). */
  private readonly trackingFailures = new Map<string, number>();
  /** Drone releases of ended deliveries under way (see the stage listener in the constructor). */
  private readonly releases = new Set<Promise<void>>();
  private readonly speed = new SpeedLearner();
  private readonly watchers = new Map<string, Set<(d: Delivery, change: StageChange | null) => void>>();
  /** Without an ingestion queue: creates are group-committed into the table itself. */
  readonly ingest: GroupCommitQueue;
  /** With one (app.ts): creates wait in the durable queue, drained into the table at the scheduler's pace. */
  readonly ingestion: Ingestion | null;
  /** The saga per delivery (issue 7): the scheduler proposes a drone, the saga makes it so or compensates. */
  readonly workflow: DeliveryWorkflow;

  constructor(
    private readonly repo: DeliveryRepository,
    private readonly fleet: FleetLink,
    readonly config: Readonly<CoreConfig>,
    readonly clock: Clock = systemClock,
    /** Accounts, packages, sagas and the outbox; memory by default (tests, benches), SQL in app.ts. */
    readonly records: WorkflowStore = new MemoryWorkflowStore(),
    workflowOptions: Partial<WorkflowOptions> = {},
    queue: IngestQueue | null = null,
  ) {
    this.ingest = new GroupCommitQueue(repo);
    this.ingestion = queue ? new Ingestion({
      repo, queue, clock, options: config.ingest,
      build: (id, req, correlationId, at) => this.newRequest(id, req, correlationId, at),
      // The saga starts from the table's row, at the workflow's pace.
      onDrained: (d, first) => {
        this.workflow.accepted(d.id);
        this.notify(d, first);
      },
      onError: (err) => this.onError(err),
    }) : null;
    this.scheduler = new Scheduler({ profile: config.profile, energy: config.energy, ...config.scheduling });
    this.workflow = new DeliveryWorkflow({
      deliveries: repo, store: records, hub: new FleetMissionHub(fleet, clock), clock, options: workflowOptions,
      // "Can never fit" is judged against the most capable drone: registered, or the default airframe.
      limits: {
        maxPayloadKg: Math.max(config.airframe.maxPayloadKg, ...config.drones.map((r) => r.maxPayloadKg)),
        maxRangeM: Math.max(config.airframe.maxRangeM, ...config.drones.map((r) => r.maxRangeM)),
        defaultPackageKg: config.airframe.defaultPackageKg,
        windowMissed: (d, now) => windowMissed(d.window, now, this.fastestS(d.pickup, d.dropoff)),
      },
      assignmentOf: (d, droneId, action) => this.assignmentOf(d, droneId, action),
      onStage: (d, change) => this.notify(d, change),
      onError: (err) => this.onError(err),
    });
    // An ended delivery frees the drone its saga reserved.
    this.listeners.push((d) => {
      // Tracked, so settled() covers it; one cut short by a crash is redone at start.
      const release = this.workflow.stageChanged(d).catch((err: unknown) => this.onError(err));
      this.releases.add(release);
      void release.finally(() => this.releases.delete(release));
    });
    fleet.onStatus((s) => this.onStatus(s));
    // Settles once the event's transaction committed (or failed): the MQTT link acknowledges the
    // event only then, so one taken but not yet written when the core dies is delivered again.
    fleet.onTracking((e) => new Promise<void>((resolve, reject) => {
      this.trackingQueue.push({ e, done: (err) => (err === undefined ? resolve() : reject(err)) });
      this.draining ??= this.drainTracking().finally(() => (this.draining = null));
    }));
  }

  /** Errors of the background loops (scheduler pass, tracking), which have no caller to tell. */
  onError: (err: unknown) => void = (err) => console.error('delivery-core:', err);

  /** Resumes after a restart: active deliveries get their assignment again (idempotent downstream). */
  async start(): Promise<void> {
    // The queue's requests past the table's position are read back first (exactly once).
    if (this.ingestion) await this.ingestion.recover();
    for (const d of await this.repo.listByStage(ACTIVE_STAGES, 100_000)) if (d.droneId) this.fleet.publishAssignment(d.id, this.assignmentOf(d, d.droneId, 'fly'));
    // A reschedule that a crash cut short after the row went back to planning: finish it (idempotent).
    for (const d of await this.repo.listByStage(['Requested'], 100_000)) {
      if (d.abortedDroneId && await this.workflow.replanPending(d.id, d.abortedDroneId)) await this.finishReplan(d, d.abortedDroneId, `${d.id}:rescheduled:${d.updatedAt}`);
    }
    // A drone still held for a delivery that ended: its release was cut short (a crash between
    // the final stage's commit and the release). Freed now, or it would never fly again.
    for (const holder of (await this.workflow.reserved()).holders) {
      const d = await this.repo.get(holder);
      if (d && FINAL_STAGES.has(d.stage)) await this.workflow.stageChanged(d);
    }
    // The Supervisor: unfinished sagas resume (or compensate) before the scheduler plans again.
    await this.workflow.start();
    this.timer = this.clock.setInterval(() => void this.pass(), this.config.scheduleEveryMs);
    this.ingestion?.start();
  }

  /** One tick of the loop; a tick that finds the previous pass still running is skipped. */
  private async pass(): Promise<void> {
    if (this.passing) return;
    this.passing = true;
    try {
      await this.schedulePending();
      await this.refreshEtas();
    } catch (err) {
      this.onError(err);
    } finally {
      this.passing = false;
    }
  }

  stop(): void {
    if (this.timer !== null) this.clock.clearInterval(this.timer);
    this.timer = null;
    void this.ingestion?.stop().catch((err: unknown) => this.onError(err));
    void this.workflow.stop().catch((err: unknown) => this.onError(err));
  }

  onStageChange(listener: StageListener): void {
    this.listeners.push(listener);
  }

  /** Stage changes and ETA/position refreshes of one delivery, for live tracking; returns the unsubscribe. */
  watch(id: string, listener: (d: Delivery, change: StageChange | null) => void): () => void {
    let set = this.watchers.get(id);
    if (!set) this.watchers.set(id, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.watchers.delete(id);
    };
  }

  /** Idempotent create: the same id with the same request returns the existing delivery. */
  async request(id: string, req: DeliveryRequest, correlationId: string): Promise<{ delivery: Delivery; created: boolean }> {
    // With an ingestion queue every create goes through its idempotency index, or a later PUT of
    // this id would be taken for a new one.
    if (this.ingestion) return this.ingestion.accept(id, req, correlationId);
    const { delivery, first } = this.newRequest(id, req, correlationId);
    return this.settleCreate(await this.repo.insert(delivery, first), delivery, first, req);
  }

  /**
   * The API's create: resolves once the request is durable, sharing its fsync with every other
   * request of the same turn — in the ingestion queue (no database write on this path), or
   * without one in the table through the group-commit queue.
   */
  requestDurable(id: string, req: DeliveryRequest, correlationId: string): Promise<{ delivery: Delivery; created: boolean }> {
    // Not async: the ingestion's promise is the caller's, without one more wrapper on the hot path.
    if (this.ingestion) return this.ingestion.accept(id, req, correlationId);
    return this.requestWithoutQueue(id, req, correlationId);
  }

  private async requestWithoutQueue(id: string, req: DeliveryRequest, correlationId: string): Promise<{ delivery: Delivery; created: boolean }> {
    const { delivery, first } = this.newRequest(id, req, correlationId);
    return this.settleCreate(await this.ingest.insert(delivery, first), delivery, first, req);
  }

  /** A request still in the ingestion queue goes into the table now (before a cancel or reschedule). */
  async materialize(id: string): Promise<void> {
    await this.ingestion?.materialize(id);
  }

  private newRequest(id: string, req: DeliveryRequest, correlationId: string, now = this.clock.now()): { delivery: Delivery; first: StageChange } {
    const delivery: Delivery = {
      id, owner: req.owner, pickup: req.pickup, dropoff: req.dropoff, stage: 'Requested', droneId: null, eta: null, lastPosition: null,
      correlationId, createdAt: now, updatedAt: now, failureReason: null, etaAtDispatch: null, etaAtHalfway: null,
      window: req.window ?? OPEN_WINDOW, route: null, abortedDroneId: null,
    };
    return { delivery, first: { stage: 'Requested', at: now, eventId: `${id}:requested` } };
  }

  /** A refused insert means the id exists: the same request is the same delivery, another is a conflict. */
  private async settleCreate(inserted: boolean, delivery: Delivery, first: StageChange, req: DeliveryRequest): Promise<{ delivery: Delivery; created: boolean }> {
    if (inserted) {
      this.workflow.accepted(delivery.id);
      this.notify(delivery, first);
      return { delivery, created: true };
    }
    const existing = await this.repo.get(delivery.id);
    if (!existing) throw new DeliveryError('DLV_ERR_INTERNAL', 500, 'insert refused but no row');
    if (!sameRequest(existing, req)) throw new DeliveryError('DLV_ERR_ID_CONFLICT', 409, `delivery ${delivery.id} exists with a different request`);
    return { delivery: existing, created: false };
  }

  /** The table's page and the still-queued requests matching it (taken first: one drained meanwhile is in either). */
  async list(filter: ListFilter, limit: number): Promise<Delivery[]> {
    if (!this.ingestion) return this.repo.list(filter, limit);
    const queued = this.ingestion.matching(filter);
    return mergePage(await this.repo.list(filter, limit), queued, limit);
  }

  async get(id: string, repo: DeliveryRepository = this.repo): Promise<{ delivery: Delivery; history: StageChange[] }> {
    const queued = repo === this.repo ? this.ingestion?.find(id) : null;
    if (queued) return queued;
    const delivery = await repo.get(id);
    if (!delivery) throw new DeliveryError('DLV_ERR_NOT_FOUND', 404, `no delivery ${id}`);
    return { delivery, history: await repo.history(id) };
  }

  /**
   * Seconds from a drone already waiting at the pickup to the package at the dropoff: loading,
   * take-off, cruise with the wind, landing (domain/eta.ts). No drone of the fleet does better,
   * so a deadline closer than this can never be met.
   */
  fastestS(pickup: LatLon, dropoff: LatLon): number {
    return remainingSeconds(this.config.profile, 'PickedUp', pickup, pickup, dropoff);
  }

  /** Why a requested window is refused (past, inconsistent, or a deadline no drone can meet), or null. */
  windowProblem(w: DeliveryWindow, pickup: LatLon, dropoff: LatLon): WindowProblem | null {
    return windowProblem(w, this.clock.now(), this.fastestS(pickup, dropoff));
  }

  /**
   * A new pickup, dropoff or window before take-off. A Requested delivery not dispatched yet
   * (perhaps tentatively planned) just changes: the next pass re-plans it. A dispatched one —
   * Scheduled, or Requested while its saga waits for the hub's answer — has its mission at the
   * hub already (fleet-hub starts it on dispatch, and ignores a second assignment for the same
   * delivery and drone), so it goes back to planning: the row returns to Requested without its
   * drone in one write, the hub is told to abort, the saga takes the scheduler's next proposal
   * and releases the drone (never given this delivery again: Delivery.abortedDroneId), and
   * DeliveryRescheduled leaves through the outbox. Once the drone is airborne: 409.
   */
  async reschedule(id: string, patch: { pickup?: LatLon; dropoff?: LatLon; window?: Partial<DeliveryWindow> }): Promise<Delivery> {
    const now = this.clock.now();
    // A drone the saga holds for a delivery still Requested: dispatched, the hub's answer awaited.
    const held = await this.workflow.heldDrone(id);
    const { dispatched, updated, change } = await this.repo.batch(async (tx) => {
      const { delivery } = await this.get(id, tx);
      if (FINAL_STAGES.has(delivery.stage)) throw new DeliveryError('DLV_ERR_NOT_ACTIVE', 409, `delivery ${id} is ${delivery.stage}`);
      if (!RESCHEDULABLE.includes(delivery.stage)) throw new DeliveryError('DLV_ERR_TOO_LATE_TO_RESCHEDULE', 409, `delivery ${id} is ${delivery.stage}`);
      const window = patch.window ? { ...delivery.window, ...patch.window } : undefined;
      const bad = windowProblem(window ?? delivery.window, now, this.fastestS(patch.pickup ?? delivery.pickup, patch.dropoff ?? delivery.dropoff));
      // A new window must be valid and ahead; the kept one must still be reachable from the new places.
      if (bad && (patch.window || bad.code === 'DLV_ERR_DEADLINE_UNREACHABLE')) throw new DeliveryError(bad.code, bad.code === 'DLV_ERR_WINDOW_INVALID' ? 400 : 422, bad.detail);
      const back: StageChange | undefined = delivery.stage === 'Scheduled' ? { stage: 'Requested', at: now, eventId: `${id}:rescheduled:${now}` } : undefined;
      const dispatched = delivery.stage === 'Scheduled' ? delivery.droneId : held;
      const fields = {
        ...(patch.pickup ? { pickup: patch.pickup } : {}), ...(patch.dropoff ? { dropoff: patch.dropoff } : {}), ...(window ? { window } : {}),
        route: null, ...(dispatched ? { abortedDroneId: dispatched } : {}),
      };
      if (!await tx.reschedule(id, fields, [delivery.stage], now, back)) {
        throw new DeliveryError('DLV_ERR_TOO_LATE_TO_RESCHEDULE', 409, `delivery ${id} changed stage meanwhile`);
      }
      return { dispatched, updated: await tx.get(id) ?? delivery, change: back ?? null };
    });
    if (dispatched) await this.finishReplan(updated, dispatched, `${id}:rescheduled:${now}`);
    if (change) this.notify(updated, change);
    return updated;
  }

  /**
   * The rest of a reschedule of a dispatched delivery, after its row is back to Requested: abort
   * the mission the hub holds (retained, so a restarted hub does not resume it), then the saga
   * releases the drone and waits for the next proposal. Each part is idempotent: start() calls it
   * again for a row a crash left half way.
   */
  private async finishReplan(d: Delivery, from: string, eventId: string): Promise<void> {
    // 'reassigned': the hub flies the drone home and tells no one; Rescheduled comes from here.
    this.fleet.publishAssignment(d.id, { ...this.assignmentOf(d, from, 'abort'), abortReason: 'reassigned' });
    this.fleet.publishAssignment(d.id, null);
    await this.workflow.replan(d.id, from, {
      id: eventId, payload: { deliveryId: d.id, owner: d.owner, fromDroneId: from, reason: 'rescheduled before take-off' },
    });
  }

  /** Cancel before pickup; the hub is told to abort the mission and bring the drone home. */
  async cancel(id: string): Promise<Delivery> {
    const change: StageChange = { stage: 'Cancelled', at: this.clock.now(), eventId: `${id}:cancelled` };
    const done = await this.repo.batch(async (tx) => {
      const { delivery } = await this.get(id, tx);
      if (delivery.stage === 'Cancelled') return { delivery, updated: null };
      if (delivery.stage === 'Completed' || delivery.stage === 'Failed') throw new DeliveryError('DLV_ERR_NOT_ACTIVE', 409, `delivery ${id} is ${delivery.stage}`);
      if (!isCancellable(delivery.stage)) throw new DeliveryError('DLV_ERR_TOO_LATE_TO_CANCEL', 409, `delivery ${id} is ${delivery.stage}`);
      await tx.advance(id, change, { eta: null });
      return { delivery, updated: await tx.get(id) ?? delivery };
    });
    const { delivery, updated } = done;
    if (!updated) return delivery;
    if (delivery.droneId) {
      this.fleet.publishAssignment(id, { ...this.assignmentOf(delivery, delivery.droneId, 'abort'), abortReason: 'cancelled' });
      this.fleet.publishAssignment(id, null);
    }
    this.notify(updated, change);
    return updated;
  }

  /** Plans each pass optimally, holds new pairs tentatively (re-optimised with hysteresis), explains each. */
  private readonly scheduler: Scheduler;

  /** Why the latest pass assigned (or left) each delivery: cost, feasible drones, what ruled the others out. */
  get explanations(): ReadonlyMap<string, AssignmentView> {
    return this.scheduler.explanations;
  }

  /**
   * One scheduler pass: the oldest Requested deliveries × the available drones, solved as one
   * optimal assignment under the hard constraints (domain/planner.ts), committed in one
   * transaction. A drone is committed once its Scheduled row is written; the store refuses a
   * second active delivery for it whatever happens concurrently.
   */
  async schedulePending(): Promise<number> {
    // A delivery whose saga already holds a drone is past planning; that drone is nobody else's.
    const reserved = await this.workflow.reserved();
    const now = this.clock.now();
    // Oldest first, but not those whose pickup window opens past the horizon: a backlog of far
    // windows would otherwise fill every batch and hold newer requests out.
    const due = await this.repo.list({ stages: ['Requested'], pickupFromUntil: now + PLAN_AHEAD_MS }, this.config.scheduleBatchMax);
    const pending = due.filter((d) => !reserved.holders.has(d.id));
    if (pending.length === 0) return 0;
    const busy = new Set((await this.repo.listByStage(ACTIVE_STAGES, 100_000)).map((d) => d.droneId).filter((x): x is string => x !== null));
    for (const droneId of reserved.drones) busy.add(droneId);
    const { airframe, energy } = this.config;
    const drones: PlanDrone[] = [];
    const registry = new Map(this.config.drones.map((r) => [r.id, r]));
    const statusOf = new Map<string, DroneStatus & { position: NonNullable<DroneStatus['position']> }>();
    for (const s of this.drones.values()) {
      if (busy.has(s.droneId) || !isAvailable(s, now, this.config.assignment)) continue;
      statusOf.set(s.droneId, s);
      drones.push({
        // A registered drone flies with its own limits and returns to its base; others as the default airframe.
        id: s.droneId, position: s.position, home: registry.get(s.droneId)?.home ?? s.position,
        maxPayloadKg: registry.get(s.droneId)?.maxPayloadKg ?? airframe.maxPayloadKg, maxRangeM: registry.get(s.droneId)?.maxRangeM ?? airframe.maxRangeM,
        energyWh: ((s.battery.pct ?? 0) / 100) * energy.capacityWh,
      });
    }
    if (drones.length === 0) return 0;
    // The package its saga bound (PUT /packages with deliveryId), else the default weight.
    const weights = await this.workflow.packageWeights(pending.map((d) => d.id));
    const jobs: PlanJob[] = pending.map((d) => ({
      id: d.id, pickup: d.pickup, dropoff: d.dropoff, weightKg: weights.get(d.id) ?? airframe.defaultPackageKg,
      // The customer's window: hard constraints of the plan (a drone that would miss it is not a candidate).
      ...(d.window.pickupFrom !== null ? { notBefore: d.window.pickupFrom } : {}),
      ...(d.window.pickupBy !== null ? { pickupBy: d.window.pickupBy } : {}),
      ...(d.window.deadline !== null ? { deadline: d.window.deadline } : {}),
      ...(d.abortedDroneId !== null ? { avoidDroneId: d.abortedDroneId } : {}),
    }));
    const commit = this.scheduler.pass(drones, jobs, now);
    // Each decision goes through the delivery's saga (reserve the drone, dispatch through the hub,
    // create the delivery as Scheduled — or compensate); the saga notifies the listeners.
    // In chunks with a yield to the I/O phase between them: the pass must not hold up ingestion.
    let done = 0;
    let proposed = 0;
    for (const d of pending) {
      const droneId = commit.get(d.id);
      const position = droneId ? statusOf.get(droneId)?.position : undefined;
      if (!droneId || !position) continue;
      this.scheduler.committed(d.id);
      // The route round no-fly zones is stored with the delivery before the saga dispatches it, so
      // the mission the hub gets is the one a restarted core publishes again.
      const route = this.plannedRoute(d, droneId, position);
      if (route) await this.repo.update(d.id, { route }, now);
      // With a window, the package is at the dropoff no earlier than the window allows.
      const waitS = this.scheduler.explanation(d.id)?.breakdown?.waitS ?? 0;
      const eta = now + Math.round((waitS + this.scheduler.dispatchEtaS(position, d.pickup, d.dropoff)) * 1000);
      if (await this.workflow.propose(d.id, droneId, eta)) done += 1;
      if (++proposed % PROPOSALS_PER_CHUNK === 0) await yieldToIo();
    }
    return done;
  }

  /** The latest status of each drone heard from: the live half of GET /api/v1/drones. */
  droneStatuses(): ReadonlyMap<string, DroneStatus> {
    return this.drones;
  }

  private onStatus(s: DroneStatus): void {
    const prev = this.drones.get(s.droneId);
    if (prev && prev.bootId === s.bootId && prev.seq >= s.seq) return;
    this.drones.set(s.droneId, s);
  }

  /** Recomputes the ETA of each active delivery from its drone's latest status, at most every ETA_REFRESH_MS. */
  async refreshEtas(): Promise<void> {
    const now = this.clock.now();
    // One transaction for the whole refresh: one fsync, not one per flying drone.
    const watched: Delivery[] = [];
    await this.repo.batch(async (tx) => {
      for (const d of await tx.listByStage(ACTIVE_STAGES, 100_000)) {
        const s = d.droneId ? this.drones.get(d.droneId) : undefined;
        if (!s?.position || now - (this.lastEtaWrite.get(d.id) ?? 0) < ETA_REFRESH_MS) continue;
        const leg = this.learn(d, s, s.position);
        const eta = now + Math.round(remainingSeconds(this.config.profile, d.stage, s.position, d.pickup, d.dropoff, this.speed.factor(s.droneId, leg), this.routedLegs(d)) * 1000);
        const lastPosition = { lat: s.position.lat, lon: s.position.lon, altRel: s.position.altRel };
        // The ETA error at half-way is measured against the first ETA past the middle of the dropoff leg.
        const halfway = d.stage === 'HeadedToDropoff' && d.etaAtHalfway === null
          && haversineM(s.position, d.dropoff) <= haversineM(d.pickup, d.dropoff) / 2;
        await tx.update(d.id, { eta, lastPosition, ...(halfway ? { etaAtHalfway: eta } : {}) }, now);
        this.lastEtaWrite.set(d.id, now);
        if (this.watchers.has(d.id)) watched.push({ ...d, eta, lastPosition, updatedAt: now });
      }
    });
    for (const d of watched) this.notify(d, null);
  }

  /**
   * Online correction: on a cruising leg, the ground speed the drone reports against the one the
   * model predicts on its course to the leg's target (DroneStatus.groundSpeed, m/s).
   */
  private learn(d: Delivery, s: DroneStatus, position: NonNullable<DroneStatus['position']>): string {
    const leg = `${d.id}:${d.stage}`;
    const target = d.stage === 'HeadedToPickup' ? d.pickup : d.stage === 'HeadedToDropoff' ? d.dropoff : null;
    const p = this.config.profile;
    // Only in steady cruise: at altitude, moving, and far enough from the target not to be braking.
    if (!target || s.landedState !== 'IN_AIR' || position.altRel < 0.8 * p.cruiseAltM || s.groundSpeed < 2 || haversineM(position, target) < 100) return leg;
    const modelled = groundSpeedMs(p.cruiseSpeedMs, courseDeg(position, target), p.wind, p.maxAirspeedMs);
    if (modelled !== null) this.speed.observe(s.droneId, leg, s.groundSpeed, modelled);
    return leg;
  }

  /** Resolves once every tracking event received so far is applied. */
  async settled(): Promise<void> {
    while (this.draining) await this.draining;
    while (this.releases.size > 0) await Promise.all([...this.releases]);
  }

  /**
   * Tracking events are applied in arrival order, those that arrived together in one transaction
   * (one fsync per burst, not per event); the hub and listeners hear of them after the commit.
   */
  private async drainTracking(): Promise<void> {
    while (this.trackingQueue.length > 0) {
      const burst = this.trackingQueue.splice(0, 1000);
      let applied: { d: Delivery; eta: number | null; change: StageChange; e: DeliveryTracking }[];
      try {
        applied = await this.repo.batch(async (tx) => {
          const out: { d: Delivery; eta: number | null; change: StageChange; e: DeliveryTracking }[] = [];
          for (const { e } of burst) {
            const a = await this.applyTracking(tx, e);
            if (a) out.push({ ...a, e });
          }
          return out;
        });
      } catch (err) {
        // Not written: the link does not acknowledge these and offers them again — while the
        // database is away. When it answers and the same event still fails, the event is the
        // trouble (it would block every event behind it): dropped after a few tries, and logged.
        this.onError(err);
        const dbAnswers = await this.repo.countByStage(['Requested'], 1).then(() => true, () => false);
        for (const b of burst) {
          const tries = dbAnswers ? (this.trackingFailures.get(b.e.eventId) ?? 0) + 1 : 0;
          if (tries >= POISON_TRIES) {
            this.trackingFailures.delete(b.e.eventId);
            this.onError(new Error(`tracking event ${b.e.eventId} (${b.e.deliveryId} ${b.e.stage}) dropped after ${tries} failed writes with the database up`));
            b.done();
          } else {
            if (dbAnswers) this.trackingFailures.set(b.e.eventId, tries);
            b.done(new Error('tracking event not written', { cause: err }));
          }
        }
        continue;
      }
      for (const b of burst) {
        this.trackingFailures.delete(b.e.eventId);
        b.done();
      }
      for (const { d, eta, change, e } of applied) {
        try {
          // Compensation: a failed or finished delivery releases its drone; the hub stops tracking it.
          if (FINAL_STAGES.has(e.stage)) this.fleet.publishAssignment(d.id, null);
          this.notify({ ...d, stage: e.stage, eta, ...(e.location ? { lastPosition: e.location } : {}) }, change);
        } catch (err) {
          this.onError(err);
        }
      }
    }
  }

  /** Read and advance in the caller's transaction: a cancel in between cannot be overtaken. */
  private async applyTracking(tx: DeliveryRepository, e: DeliveryTracking): Promise<{ d: Delivery; eta: number | null; change: StageChange } | null> {
    const d = await tx.get(e.deliveryId);
    if (!d || !canAdvance(d.stage, e.stage)) return null;
    if (d.droneId && e.droneId && d.droneId !== e.droneId) return null;
    // The drone a reschedule took this delivery from: its late events are not about the new plan.
    if (e.droneId && e.droneId === d.abortedDroneId) return null;
    const s = d.droneId ? this.drones.get(d.droneId) : undefined;
    const eta = FINAL_STAGES.has(e.stage) ? (e.stage === 'Completed' ? e.ts : null)
      : this.clock.now() + Math.round(remainingSeconds(this.config.profile, e.stage, e.location ?? s?.position ?? d.pickup, d.pickup, d.dropoff, 1, this.routedLegs(d)) * 1000);
    const change: StageChange = { stage: e.stage, at: e.ts, eventId: e.eventId };
    // The hub's tracking can overtake the saga, whose Scheduled write waits for the hub's answer:
    // once the drone is flying the delivery, the event names it, so the row is not active without
    // its drone (the store's one-active-delivery-per-drone index needs it; telemetry finds the track).
    const named = d.droneId === null && e.droneId !== null && e.stage !== 'Scheduled' && !FINAL_STAGES.has(e.stage);
    const patch = {
      eta, ...(e.location ? { lastPosition: e.location } : {}), ...(e.reason ? { failureReason: e.reason } : {}), ...(named ? { droneId: e.droneId } : {}),
    };
    return await tx.advance(d.id, change, patch) ? { d: named ? { ...d, droneId: e.droneId } : d, eta, change } : null;
  }

  private assignmentOf(d: Delivery, droneId: string, action: DeliveryAssignment['action']): DeliveryAssignment {
    const r = action === 'fly' ? this.routeOf(d, droneId) : null;
    return {
      v: 1, deliveryId: d.id, droneId, ts: this.clock.now(), correlationId: d.correlationId, action,
      pickup: d.pickup, dropoff: d.dropoff, cruiseAltM: this.config.profile.cruiseAltM, groundDelayS: this.config.profile.groundDelayS,
      ...(r && r.toPickup.length + r.toDropoff.length + r.toHome.length > 0 ? { route: { toPickup: r.toPickup, toDropoff: r.toDropoff, toHome: r.toHome } } : {}),
    };
  }

  /**
   * The legs the scheduler costed, from where the drone is, and home to that same place: the
   * mission ends in RTL, which flies to where the drone took off. Null without no-fly zones.
   */
  private plannedRoute(d: Delivery, droneId: string, from: LatLon): StoredRoute | null {
    const r = this.scheduler.dispatchRoute(from, d.pickup, d.dropoff, from);
    return r ? { droneId, from: { lat: from.lat, lon: from.lon }, ...r } : null;
  }

  /**
   * The delivery's route as stored when it was proposed (so a re-published assignment, after a
   * restart too, carries the mission the hub already sent); computed afresh only for a row
   * without one for this drone (from the drone's place, or its base when unheard of).
   */
  private routeOf(d: Delivery, droneId: string): StoredRoute | null {
    if (d.route?.droneId === droneId) return d.route;
    const base = this.config.drones.find((r) => r.id === droneId)?.home;
    return this.plannedRoute(d, droneId, this.drones.get(droneId)?.position ?? base ?? d.pickup);
  }

  /** The delivery's dispatched legs for the ETA, when it was routed round zones. */
  private routedLegs(d: Delivery): RoutedLegs | undefined {
    return d.route && d.droneId !== null && d.route.droneId === d.droneId ? d.route : undefined;
  }

  private notify(d: Delivery, change: StageChange | null): void {
    if (change) for (const l of this.listeners) l(d, change);
    const set = this.watchers.get(d.id);
    if (set) for (const l of [...set]) l(d, change);
  }

  /** Requested deliveries still waiting for a drone. */
  async backlog(): Promise<number> {
    return (await this.repo.listByStage(['Requested'], 10_000)).length + (this.ingestion?.size ?? 0);
  }
}

export function newCorrelationId(): string {
  return randomUUID();
}
