import type { Kysely, Selectable } from 'kysely';
import type { OutboxDraft, SagaState } from '../domain/saga.js';
import type { OutboxEvent } from '../domain/outbox.js';
import type { Page, WorkflowStore } from '../workflow/ports.js';
import type { Account, Package } from '../workflow/records.js';
import { migrateWorkflow, type WorkflowDatabase, type WorkflowDialect } from './outbox-schema.js';

type SagaRow = Selectable<WorkflowDatabase['sagas']>;

const toAccount = (r: Selectable<WorkflowDatabase['accounts']>): Account => ({
  id: r.id, kind: r.kind as Account['kind'], name: r.name, businessId: r.business_id, status: r.status as Account['status'], createdAt: Number(r.created_at),
});
const toPackage = (r: Selectable<WorkflowDatabase['packages']>): Package => ({
  id: r.id, owner: r.owner, size: r.size as Package['size'], weightKg: Number(r.weight_kg), tag: r.tag, deliveryId: r.delivery_id, createdAt: Number(r.created_at),
});
const toSaga = (r: SagaRow): SagaState => ({
  id: r.id, kind: r.kind, status: r.status as SagaState['status'], step: Number(r.step), data: JSON.parse(r.data) as SagaState['data'],
  attempts: Number(r.attempts), nextAttemptAt: Number(r.next_attempt_at), error: r.error === null ? null : (JSON.parse(r.error) as SagaState['error']),
  version: Number(r.version), createdAt: Number(r.created_at), updatedAt: Number(r.updated_at),
});
const sagaRow = (s: SagaState): SagaRow => ({
  id: s.id, kind: s.kind, status: s.status, step: s.step, data: JSON.stringify(s.data), attempts: s.attempts, next_attempt_at: s.nextAttemptAt,
  error: s.error === null ? null : JSON.stringify(s.error), version: s.version, created_at: s.createdAt, updated_at: s.updatedAt,
});

/** SQLite's and PostgreSQL's unique-violation codes: the store refused a second holder. */
function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/**
 * The workflow store on SQLite or PostgreSQL through kysely, on the same database as the
 * deliveries. A saga transition and its outbox events commit in one transaction; the version
 * check makes a stale runner's transition a no-op; the drone reservation is a primary key.
 */
export class SqlWorkflowStore implements WorkflowStore {
  private constructor(
    private readonly db: Kysely<WorkflowDatabase>, private readonly ownsDb: boolean, private readonly durable: () => Promise<void>,
    private readonly dialect: WorkflowDialect,
  ) {}

  /**
   * Migrates, then wraps `db`. `ownsDb`: close() destroys it (false when the delivery repository
   * shares it). `durable`: resolves once what was committed is on disk (the embedded SQLite
   * fsyncs off the event loop, sql/sqlite.ts); every write here waits for it before resolving.
   */
  static async open(db: Kysely<WorkflowDatabase>, dialect: WorkflowDialect, ownsDb = false, durable: () => Promise<void> = () => Promise.resolve()): Promise<SqlWorkflowStore> {
    await migrateWorkflow(db as Kysely<unknown>, dialect);
    return new SqlWorkflowStore(db, ownsDb, durable, dialect);
  }

  private async written<T>(p: Promise<T>): Promise<T> {
    const v = await p;
    await this.durable();
    return v;
  }

  async insertAccount(a: Account): Promise<boolean> {
    const r = await this.written(this.db.insertInto('accounts').values({
      id: a.id, kind: a.kind, name: a.name, business_id: a.businessId, status: a.status, created_at: a.createdAt,
    }).onConflict((oc) => oc.column('id').doNothing()).executeTakeFirst());
    return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
  }
  async getAccount(id: string): Promise<Account | null> {
    const r = await this.db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toAccount(r) : null;
  }
  async listAccounts(f: { businessId?: string }, page: Page): Promise<Account[]> {
    let q = this.db.selectFrom('accounts').selectAll();
    if (f.businessId !== undefined) q = q.where('business_id', '=', f.businessId);
    if (page.after !== undefined) q = q.where('id', '>', page.after);
    return (await q.orderBy('id').limit(page.limit).execute()).map(toAccount);
  }

  async insertPackage(p: Package): Promise<boolean> {
    try {
      const r = await this.written(this.db.insertInto('packages').values({
        id: p.id, owner: p.owner, size: p.size, weight_kg: p.weightKg, tag: p.tag, delivery_id: p.deliveryId, created_at: p.createdAt,
      }).onConflict((oc) => oc.column('id').doNothing()).executeTakeFirst());
      return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
    } catch (err) {
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  }
  async getPackage(id: string): Promise<Package | null> {
    const r = await this.db.selectFrom('packages').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toPackage(r) : null;
  }
  async listPackages(f: { owners?: readonly string[] }, page: Page): Promise<Package[]> {
    if (f.owners && f.owners.length === 0) return [];
    let q = this.db.selectFrom('packages').selectAll();
    if (f.owners) q = q.where('owner', 'in', [...f.owners]);
    if (page.after !== undefined) q = q.where('id', '>', page.after);
    return (await q.orderBy('id').limit(page.limit).execute()).map(toPackage);
  }
  async packageOfDelivery(deliveryId: string): Promise<Package | null> {
    const r = await this.db.selectFrom('packages').selectAll().where('delivery_id', '=', deliveryId).executeTakeFirst();
    return r ? toPackage(r) : null;
  }
  async packagesOfDeliveries(deliveryIds: readonly string[]): Promise<Map<string, Package>> {
    if (deliveryIds.length === 0) return new Map();
    const rows = await this.db.selectFrom('packages').selectAll().where('delivery_id', 'in', [...deliveryIds]).execute();
    return new Map(rows.map((r) => [r.delivery_id!, toPackage(r)]));
  }
  async bindPackage(id: string, deliveryId: string): Promise<boolean> {
    try {
      const r = await this.written(this.db.updateTable('packages').set({ delivery_id: deliveryId })
        .where('id', '=', id).where((eb) => eb.or([eb('delivery_id', 'is', null), eb('delivery_id', '=', deliveryId)])).executeTakeFirst());
      return Number(r.numUpdatedRows) === 1;
    } catch (err) {
      // packages.delivery_id is UNIQUE: the delivery already carries another package.
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  }
  async unbindPackage(id: string, deliveryId: string): Promise<void> {
    await this.written(this.db.updateTable('packages').set({ delivery_id: null }).where('id', '=', id).where('delivery_id', '=', deliveryId).execute());
  }

  async createSaga(s: SagaState): Promise<boolean> {
    const r = await this.written(this.db.insertInto('sagas').values(sagaRow(s)).onConflict((oc) => oc.column('id').doNothing()).executeTakeFirst());
    return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
  }
  async getSaga(id: string): Promise<SagaState | null> {
    const r = await this.db.selectFrom('sagas').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toSaga(r) : null;
  }
  saveSaga(next: SagaState, events: readonly OutboxDraft[]): Promise<boolean> {
    return this.written(this.db.transaction().execute(async (tx) => {
      const { id: _id, created_at: _c, ...row } = sagaRow(next);
      const r = await tx.updateTable('sagas').set(row).where('id', '=', next.id).where('version', '=', next.version - 1).executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return false;
      if (events.length > 0) {
        await tx.insertInto('outbox').values(events.map((e) => ({
          id: e.id, type: e.type, aggregate_id: e.aggregateId, payload: JSON.stringify(e.payload), created_at: next.updatedAt, sent_at: null,
        }))).onConflict((oc) => oc.column('id').doNothing()).execute();
      }
      return true;
    }));
  }
  async dueSagas(now: number, limit: number): Promise<SagaState[]> {
    const rows = await this.db.selectFrom('sagas').selectAll().where('status', 'in', ['running', 'compensating']).where('next_attempt_at', '<=', now)
      .orderBy('next_attempt_at').orderBy('id').limit(limit).execute();
    return rows.map(toSaga);
  }
  async unfinishedSagas(limit: number): Promise<SagaState[]> {
    const rows = await this.db.selectFrom('sagas').selectAll().where('status', 'in', ['running', 'compensating'])
      .orderBy('created_at').orderBy('id').limit(limit).execute();
    return rows.map(toSaga);
  }

  /**
   * One statement, atomic under concurrency: the row is inserted, or updated only where it is
   * this owner's or expired; a live lease of another instance leaves it as it is (0 rows).
   */
  async claimSaga(id: string, owner: string, now: number, until: number): Promise<boolean> {
    // A SQLite file has one process (sql/sqlite.ts): no other instance to keep out, no fsync spent.
    if (this.dialect === 'sqlite') return true;
    const r = await this.written(this.db.insertInto('saga_leases').values({ saga_id: id, owner, expires_at: until })
      .onConflict((oc) => oc.column('saga_id').doUpdateSet({ owner, expires_at: until })
        .where((eb) => eb.or([eb('saga_leases.owner', '=', owner), eb('saga_leases.expires_at', '<', now)])))
      .executeTakeFirst());
    return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
  }
  async releaseSagas(owner: string): Promise<void> {
    await this.written(this.db.deleteFrom('saga_leases').where('owner', '=', owner).execute());
  }

  async unsent(limit: number): Promise<OutboxEvent[]> {
    const rows = await this.db.selectFrom('outbox').selectAll().where('sent_at', 'is', null).orderBy('seq').limit(limit).execute();
    return rows.map((r) => ({
      seq: Number(r.seq), id: r.id, type: r.type, aggregateId: r.aggregate_id, payload: JSON.parse(r.payload) as OutboxEvent['payload'], createdAt: Number(r.created_at),
    }));
  }
  async markSent(ids: readonly string[], now: number): Promise<void> {
    if (ids.length === 0) return;
    await this.written(this.db.updateTable('outbox').set({ sent_at: now }).where('id', 'in', [...ids]).where('sent_at', 'is', null).execute());
  }

  async reserveDrone(droneId: string, holder: string, now: number): Promise<boolean> {
    // No conflict target: a clash on either key (the drone, or a holder that holds another) does nothing.
    const r = await this.written(this.db.insertInto('drone_reservations').values({ drone_id: droneId, holder, reserved_at: now })
      .onConflict((oc) => oc.doNothing()).executeTakeFirst());
    if (Number(r.numInsertedOrUpdatedRows ?? 0) === 1) return true;
    const cur = await this.db.selectFrom('drone_reservations').select('holder').where('drone_id', '=', droneId).executeTakeFirst();
    return cur?.holder === holder;
  }
  async releaseDrone(droneId: string, holder: string): Promise<void> {
    await this.written(this.db.deleteFrom('drone_reservations').where('drone_id', '=', droneId).where('holder', '=', holder).execute());
  }
  async reservations(): Promise<{ droneId: string; holder: string }[]> {
    const rows = await this.db.selectFrom('drone_reservations').select(['drone_id', 'holder']).orderBy('drone_id').execute();
    return rows.map((r) => ({ droneId: r.drone_id, holder: r.holder }));
  }
  async heldBy(holder: string): Promise<string | null> {
    return (await this.db.selectFrom('drone_reservations').select('drone_id').where('holder', '=', holder).executeTakeFirst())?.drone_id ?? null;
  }

  async close(): Promise<void> {
    if (this.ownsDb) await this.db.destroy();
  }
}
