import { CompiledQuery, sql, type Compilable, type Kysely, type Selectable, type Updateable } from 'kysely';
import type { DeliveryStage } from '@aerie/contracts';
import type { Delivery, StageChange, StoredRoute } from '../../domain/delivery.js';
import type { DeliveryRepository, ListFilter } from '../../ports.js';
import type { CoreDatabase, DeliveriesTable, SqlDialectName } from './schema.js';
import { migrateToLatest } from './migrations.js';

type Db = Kysely<CoreDatabase>;
type Row = Selectable<DeliveriesTable>;
type AdvancePatch = Parameters<DeliveryRepository['advance']>[2];
type UpdatePatch = Parameters<DeliveryRepository['update']>[1];
type ReschedulePatch = Parameters<DeliveryRepository['reschedule']>[1];

/** Rows per INSERT: under SQLite's 32,766 and PostgreSQL's 65,535 bound parameters at 21 columns. */
const ROWS_PER_INSERT = 500;

/** INSERT texts by dialect, statement and row count (SqlDeliveryRepository.insertRows). */
const insertTexts = new Map<string, string>();

/** The event id of a stage change was recorded already: the change is a repeat. */
class RepeatedEvent extends Error {}

/**
 * The delivery store over kysely, one implementation for SQLite and PostgreSQL. The guarantees
 * live in the schema, so they hold against concurrent writers too: the primary key makes
 * inserts idempotent by id, a unique event id dedupes stage changes, and a partial unique index
 * refuses a second active delivery for a drone (SQLITE_CONSTRAINT_UNIQUE / SQLSTATE 23505,
 * answered as `false`).
 */
export class SqlDeliveryRepository implements DeliveryRepository {
  private savepoints = 0;

  /**
   * `durable`: resolves once what was committed before is on disk (SQLite fsyncs off the event
   * loop; PostgreSQL's COMMIT already waited for it). `inTx`: this instance is the `tx` of an
   * open batch, bound to its transaction.
   */
  protected constructor(
    private readonly db: Db,
    readonly dialect: SqlDialectName,
    private readonly ready: Promise<unknown>,
    private readonly durable: () => Promise<void> = () => Promise.resolve(),
    private readonly inTx = false,
  ) {}

  /** Runs the migrations now; every call waits for them. */
  static open(db: Db, dialect: SqlDialectName, durable?: () => Promise<void>): SqlDeliveryRepository {
    return new SqlDeliveryRepository(db, dialect, SqlDeliveryRepository.migrate(db, dialect), durable);
  }

  protected static migrate(db: Db, dialect: SqlDialectName): Promise<string[]> {
    const ready = migrateToLatest(db as Kysely<unknown>, dialect);
    // Reported by the first call that waits on it (or by `opened`), not as an unhandled rejection.
    ready.catch(() => undefined);
    return ready;
  }

  /** Resolves once the schema is at the latest migration (rejects with the migration's error). */
  async opened(): Promise<void> {
    await this.ready;
  }

  async insert(d: Delivery, first: StageChange): Promise<boolean> {
    return (await this.insertMany([{ delivery: d, first }]))[0]!;
  }

  async insertMany(items: readonly { delivery: Delivery; first: StageChange }[]): Promise<boolean[]> {
    await this.ready;
    if (items.length === 0) return [];
    // Only the first of several items with one id can be the one created.
    const firstOf = new Map<string, number>();
    items.forEach((x, k) => firstOf.has(x.delivery.id) || firstOf.set(x.delivery.id, k));
    const unique = [...firstOf.values()].map((k) => items[k]!);
    const created = await this.written(this.atomic(async (db) => {
      const ids = new Set<string>();
      for (let i = 0; i < unique.length; i += ROWS_PER_INSERT) {
        const part = unique.slice(i, i + ROWS_PER_INSERT);
        const { rows } = await this.insertRows(db, 'deliveries', part.map((x) => toRow(x.delivery)),
          (values) => db.insertInto('deliveries').values(values).onConflict((oc) => oc.column('id').doNothing()).returning('id'));
        const now = new Set(rows.map((r) => r.id));
        const history = part.filter((x) => now.has(x.delivery.id))
          .map(({ delivery, first }) => ({ delivery_id: delivery.id, stage: first.stage, at: first.at, event_id: first.eventId }));
        if (history.length > 0) {
          await this.insertRows(db, 'stage_history', history, (values) => db.insertInto('stage_history').values(values).onConflict((oc) => oc.column('event_id').doNothing()));
        }
        for (const id of now) ids.add(id);
      }
      return ids;
    }));
    return items.map((x, k) => firstOf.get(x.delivery.id) === k && created.has(x.delivery.id));
  }

  /**
   * A multi-row INSERT of `rows` (all with the same keys in the same order). Kysely builds, freezes
   * and compiles an operation tree of rows × columns nodes for every group commit — the largest
   * share of the ingestion path's JavaScript in bench:api — though the text depends only on the
   * dialect, the statement and the row count. So the text is compiled once per row count, kept
   * once its parameters are checked to be the rows' values in order, and then run with the
   * values alone (the driver's prepared statement is cached by that text, sqlite.ts).
   */
  private async insertRows<R extends object, O>(db: Db, statement: string, rows: R[], build: (rows: R[]) => Compilable<O>): Promise<{ rows: O[] }> {
    const key = `${this.dialect}:${statement}:${rows.length}`;
    const params: unknown[] = [];
    for (const r of rows) for (const v of Object.values(r)) params.push(v);
    const text = insertTexts.get(key);
    if (text !== undefined) return db.executeQuery<O>(CompiledQuery.raw(text, params));
    const compiled = build(rows).compile();
    if (compiled.parameters.length === params.length && compiled.parameters.every((p, i) => p === params[i])) insertTexts.set(key, compiled.sql);
    return db.executeQuery(compiled);
  }

  async get(id: string): Promise<Delivery | null> {
    await this.ready;
    let q = this.db.selectFrom('deliveries').selectAll().where('id', '=', id);
    // Inside a batch the row stays as read until the commit (SQLite: the whole store already does).
    if (this.inTx && this.dialect === 'postgres') q = q.forUpdate();
    const row = await q.executeTakeFirst();
    return row ? toDelivery(row) : null;
  }

  async history(id: string): Promise<StageChange[]> {
    await this.ready;
    const rows = await this.db.selectFrom('stage_history').select(['stage', 'at', 'event_id']).where('delivery_id', '=', id).orderBy('at').orderBy('seq').execute();
    return rows.map((r) => ({ stage: r.stage, at: r.at, eventId: r.event_id }));
  }

  async advance(id: string, change: StageChange, patch: AdvancePatch): Promise<boolean> {
    await this.ready;
    const set: Updateable<DeliveriesTable> = {
      stage: change.stage, updated_at: change.at,
      ...(patch.droneId ? { drone_id: patch.droneId } : {}),
      ...(patch.eta !== undefined ? { eta: patch.eta } : {}),
      ...(patch.lastPosition ? { last_position: JSON.stringify(patch.lastPosition) } : {}),
      ...(patch.failureReason ? { failure_reason: patch.failureReason } : {}),
      ...(patch.etaAtDispatch != null ? { eta_dispatch: patch.etaAtDispatch } : {}),
    };
    try {
      return await this.written(this.atomic(async (db) => {
        let q = db.updateTable('deliveries').set(set).where('id', '=', id);
        // Never back to the drone a reschedule took it from (its mission there was aborted).
        const to = patch.droneId;
        if (to) q = q.where((eb) => eb.or([eb('aborted_drone_id', 'is', null), eb('aborted_drone_id', '<>', to)]));
        const updated = await q.executeTakeFirst();
        if (Number(updated.numUpdatedRows) === 0) return false;
        const recorded = await db.insertInto('stage_history').values({ delivery_id: id, stage: change.stage, at: change.at, event_id: change.eventId })
          .onConflict((oc) => oc.column('event_id').doNothing()).executeTakeFirst();
        if (Number(recorded.numInsertedOrUpdatedRows ?? 0) === 0) throw new RepeatedEvent();
        return true;
      }, true));
    } catch (err) {
      // one_active_delivery_per_drone: the drone is taken; this change was undone whole.
      if (err instanceof RepeatedEvent || isUniqueViolation(err)) return false;
      throw err;
    }
  }

  async reschedule(id: string, patch: ReschedulePatch, stages: readonly DeliveryStage[], now: number, replan?: StageChange): Promise<boolean> {
    await this.ready;
    if (stages.length === 0) return false;
    const set: Updateable<DeliveriesTable> = {
      updated_at: now,
      ...(patch.pickup ? { pickup_lat: patch.pickup.lat, pickup_lon: patch.pickup.lon } : {}),
      ...(patch.dropoff ? { dropoff_lat: patch.dropoff.lat, dropoff_lon: patch.dropoff.lon } : {}),
      ...(patch.window ? { pickup_from: patch.window.pickupFrom, pickup_by: patch.window.pickupBy, deadline: patch.window.deadline } : {}),
      ...(patch.route !== undefined ? { route: patch.route ? JSON.stringify(patch.route) : null } : {}),
      ...(patch.abortedDroneId !== undefined ? { aborted_drone_id: patch.abortedDroneId } : {}),
      // Back to planning: the drone, its ETA and its route are the old assignment's.
      ...(replan ? { stage: replan.stage, drone_id: null, eta: null, eta_dispatch: null, route: null } : {}),
    };
    return this.written(this.atomic(async (db) => {
      const res = await db.updateTable('deliveries').set(set).where('id', '=', id).where('stage', 'in', stages).executeTakeFirst();
      if (Number(res.numUpdatedRows) !== 1) return false;
      if (replan) {
        await db.insertInto('stage_history').values({ delivery_id: id, stage: replan.stage, at: replan.at, event_id: replan.eventId })
          .onConflict((oc) => oc.column('event_id').doNothing()).execute();
      }
      return true;
    }));
  }

  async update(id: string, patch: UpdatePatch, now: number): Promise<void> {
    await this.ready;
    await this.written(this.db.updateTable('deliveries').set({
      updated_at: now,
      ...(patch.eta !== undefined ? { eta: patch.eta } : {}),
      ...(patch.lastPosition ? { last_position: JSON.stringify(patch.lastPosition) } : {}),
      ...(patch.etaAtHalfway != null ? { eta_halfway: patch.etaAtHalfway } : {}),
      ...(patch.route !== undefined ? { route: patch.route ? JSON.stringify(patch.route) : null } : {}),
    }).where('id', '=', id).execute());
  }

  async listByStage(stages: readonly DeliveryStage[], limit: number): Promise<Delivery[]> {
    await this.ready;
    if (stages.length === 0) return [];
    const rows = await this.db.selectFrom('deliveries').selectAll().where('stage', 'in', stages).orderBy('created_at').orderBy('id').limit(limit).execute();
    return rows.map(toDelivery);
  }

  async list(f: ListFilter, limit: number): Promise<Delivery[]> {
    await this.ready;
    if (f.stages?.length === 0) return [];
    let q = this.db.selectFrom('deliveries').selectAll();
    if (f.stages) q = q.where('stage', 'in', f.stages);
    if (f.owner !== undefined) q = q.where('owner', '=', f.owner);
    if (f.from !== undefined) q = q.where('created_at', '>=', f.from);
    if (f.to !== undefined) q = q.where('created_at', '<', f.to);
    const until = f.pickupFromUntil;
    if (until !== undefined) q = q.where((eb) => eb.or([eb('pickup_from', 'is', null), eb('pickup_from', '<=', until)]));
    const after = f.after;
    if (after) q = q.where((eb) => eb.or([eb('created_at', '>', after.createdAt), eb.and([eb('created_at', '=', after.createdAt), eb('id', '>', after.id)])]));
    return (await q.orderBy('created_at').orderBy('id').limit(limit).execute()).map(toDelivery);
  }

  async drainQueue(queue: string, items: readonly { delivery: Delivery; first: StageChange }[], position: number): Promise<boolean[]> {
    return this.batch(async (tx) => {
      const created = await tx.insertMany(items);
      await (tx as SqlDeliveryRepository).db.insertInto('ingest_cursor').values({ queue, position })
        .onConflict((oc) => oc.column('queue').doUpdateSet({ position })).execute();
      return created;
    });
  }

  async countByStage(stages: readonly DeliveryStage[], limit: number): Promise<number> {
    await this.ready;
    if (stages.length === 0 || limit <= 0) return 0;
    // Counted over the (stage, created_at, id) index, stopping at `limit` rows.
    const inner = this.db.selectFrom('deliveries').select('id').where('stage', 'in', stages).limit(limit).as('page');
    const row = await this.db.selectFrom(inner).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async queuePosition(queue: string): Promise<number> {
    await this.ready;
    const row = await this.db.selectFrom('ingest_cursor').select('position').where('queue', '=', queue).executeTakeFirst();
    return row ? Number(row.position) : 0;
  }

  async allIds(): Promise<string[]> {
    await this.ready;
    return (await this.db.selectFrom('deliveries').select('id').execute()).map((r) => r.id);
  }

  async batch<T>(fn: (tx: DeliveryRepository) => Promise<T>): Promise<T> {
    await this.ready;
    if (this.inTx) return fn(this);
    return this.written(this.db.transaction().execute((trx) => fn(new SqlDeliveryRepository(trx, this.dialect, this.ready, this.durable, true))));
  }

  async close(): Promise<void> {
    if (this.inTx) throw new Error('close() inside a batch');
    await this.db.destroy();
  }

  /** A write's result once it is durable (inside a batch: once the batch is). */
  private async written<T>(write: Promise<T>): Promise<T> {
    const out = await write;
    if (!this.inTx) await this.durable();
    return out;
  }

  /**
   * `fn` all or nothing: its own transaction, or inside a batch, the batch's — under a savepoint
   * when `undoAlone`, so that a refused change undoes itself and not the batch (PostgreSQL
   * aborts the whole transaction on an error otherwise).
   */
  private async atomic<T>(fn: (db: Db) => Promise<T>, undoAlone = false): Promise<T> {
    if (!this.inTx) return this.db.transaction().execute(fn);
    if (!undoAlone) return fn(this.db);
    const name = sql.raw(`sp${++this.savepoints}`);
    await sql`SAVEPOINT ${name}`.execute(this.db);
    try {
      const out = await fn(this.db);
      await sql`RELEASE SAVEPOINT ${name}`.execute(this.db);
      return out;
    } catch (err) {
      await sql`ROLLBACK TO SAVEPOINT ${name}`.execute(this.db);
      await sql`RELEASE SAVEPOINT ${name}`.execute(this.db);
      throw err;
    }
  }
}

function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === '23505';
}

function toRow(d: Delivery): Row {
  return {
    id: d.id, owner: d.owner, pickup_lat: d.pickup.lat, pickup_lon: d.pickup.lon, dropoff_lat: d.dropoff.lat, dropoff_lon: d.dropoff.lon,
    stage: d.stage, drone_id: d.droneId, eta: d.eta, last_position: d.lastPosition ? JSON.stringify(d.lastPosition) : null,
    correlation_id: d.correlationId, created_at: d.createdAt, updated_at: d.updatedAt, failure_reason: d.failureReason,
    eta_dispatch: d.etaAtDispatch, eta_halfway: d.etaAtHalfway,
    pickup_from: d.window.pickupFrom, pickup_by: d.window.pickupBy, deadline: d.window.deadline,
    route: d.route ? JSON.stringify(d.route) : null, aborted_drone_id: d.abortedDroneId,
  };
}

function toDelivery(r: Row): Delivery {
  return {
    id: r.id, owner: r.owner, pickup: { lat: r.pickup_lat, lon: r.pickup_lon }, dropoff: { lat: r.dropoff_lat, lon: r.dropoff_lon },
    stage: r.stage, droneId: r.drone_id, eta: r.eta, lastPosition: r.last_position ? (JSON.parse(r.last_position) as Delivery['lastPosition']) : null,
    correlationId: r.correlation_id, createdAt: r.created_at, updatedAt: r.updated_at, failureReason: r.failure_reason,
    etaAtDispatch: r.eta_dispatch, etaAtHalfway: r.eta_halfway,
    window: { pickupFrom: r.pickup_from, pickupBy: r.pickup_by, deadline: r.deadline },
    route: r.route ? (JSON.parse(r.route) as StoredRoute) : null, abortedDroneId: r.aborted_drone_id,
  };
}
