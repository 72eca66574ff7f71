import Database from 'better-sqlite3';
import type { DeliveryStage } from '@aerie/contracts';
import type { Delivery, StageChange } from '../domain/delivery.js';
import type { ListFilter } from '../ports.js';
import { SerialRepository, type SyncDeliveryStore } from './serial-repository.js';

interface Row {
  id: string; owner: string | null; pickup_lat: number; pickup_lon: number; dropoff_lat: number; dropoff_lon: number;
  stage: DeliveryStage; drone_id: string | null; eta: number | null; last_position: string | null; correlation_id: string;
  created_at: number; updated_at: number; failure_reason: string | null; eta_dispatch: number | null; eta_halfway: number | null;
}

/**
 * Migrations, applied in order and recorded in PRAGMA user_version; never edit one that has
 * shipped, append a new one.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS deliveries (
    id TEXT PRIMARY KEY, owner TEXT, pickup_lat REAL NOT NULL, pickup_lon REAL NOT NULL,
    dropoff_lat REAL NOT NULL, dropoff_lon REAL NOT NULL, stage TEXT NOT NULL, drone_id TEXT, eta INTEGER,
    last_position TEXT, correlation_id TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    failure_reason TEXT
  );
  CREATE INDEX IF NOT EXISTS deliveries_stage ON deliveries (stage, created_at);
  CREATE TABLE IF NOT EXISTS stage_history (
    delivery_id TEXT NOT NULL REFERENCES deliveries(id), stage TEXT NOT NULL, at INTEGER NOT NULL,
    event_id TEXT NOT NULL UNIQUE
  );
  CREATE INDEX IF NOT EXISTS stage_history_delivery ON stage_history (delivery_id, at);`,
  // No drone on two active deliveries, enforced by the store so no code path can break it.
  `CREATE UNIQUE INDEX one_active_delivery_per_drone ON deliveries (drone_id)
    WHERE stage IN ('Scheduled', 'HeadedToPickup', 'PickedUp', 'HeadedToDropoff');
  CREATE INDEX deliveries_created ON deliveries (created_at, id);
  CREATE INDEX deliveries_owner ON deliveries (owner, created_at, id);`,
  // The scheduler's "oldest Requested first" must not sort the whole backlog on every pass.
  `CREATE INDEX deliveries_stage_order ON deliveries (stage, created_at, id);
  DROP INDEX deliveries_stage;`,
  `ALTER TABLE deliveries ADD COLUMN eta_dispatch INTEGER;
  ALTER TABLE deliveries ADD COLUMN eta_halfway INTEGER;`,
];

function migrate(db: Database.Database): void {
  const at = db.pragma('user_version', { simple: true }) as number;
  for (let v = at; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

function toDelivery(r: Row): Delivery {
  return {
    id: r.id, owner: r.owner, pickup: { lat: r.pickup_lat, lon: r.pickup_lon }, dropoff: { lat: r.dropoff_lat, lon: r.dropoff_lon },
    stage: r.stage, droneId: r.drone_id, eta: r.eta, lastPosition: r.last_position ? (JSON.parse(r.last_position) as Delivery['lastPosition']) : null,
    correlationId: r.correlation_id, createdAt: r.created_at, updatedAt: r.updated_at, failureReason: r.failure_reason,
    etaAtDispatch: r.eta_dispatch, etaAtHalfway: r.eta_halfway,
  };
}

/** SQLite (WAL, synchronous=FULL: a committed write survives power loss). */
export class SqliteDeliveryRepository extends SerialRepository {
  constructor(path: string) {
    super(new SqliteStore(path));
  }
}

class SqliteStore implements SyncDeliveryStore {
  private readonly db: Database.Database;
  private readonly stmts;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    migrate(this.db);
    this.stmts = {
      insert: this.db.prepare(`INSERT OR IGNORE INTO deliveries (id, owner, pickup_lat, pickup_lon, dropoff_lat, dropoff_lon, stage, drone_id, eta,
        last_position, correlation_id, created_at, updated_at, failure_reason, eta_dispatch, eta_halfway) VALUES (@id, @owner, @pickup_lat, @pickup_lon,
        @dropoff_lat, @dropoff_lon, @stage, @drone_id, @eta, @last_position, @correlation_id, @created_at, @updated_at, @failure_reason, @eta_dispatch, @eta_halfway)`),
      get: this.db.prepare('SELECT * FROM deliveries WHERE id = ?'),
      history: this.db.prepare('SELECT stage, at, event_id FROM stage_history WHERE delivery_id = ? ORDER BY at, rowid'),
      addHistory: this.db.prepare('INSERT OR IGNORE INTO stage_history (delivery_id, stage, at, event_id) VALUES (?, ?, ?, ?)'),
      advance: this.db.prepare(`UPDATE deliveries SET stage = @stage, updated_at = @at, drone_id = COALESCE(@drone_id, drone_id),
        eta = CASE WHEN @set_eta THEN @eta ELSE eta END, last_position = COALESCE(@last_position, last_position),
        failure_reason = COALESCE(@failure_reason, failure_reason), eta_dispatch = COALESCE(@eta_dispatch, eta_dispatch) WHERE id = @id`),
      update: this.db.prepare(`UPDATE deliveries SET updated_at = @at, eta = CASE WHEN @set_eta THEN @eta ELSE eta END,
        last_position = COALESCE(@last_position, last_position), eta_halfway = COALESCE(@eta_halfway, eta_halfway) WHERE id = @id`),
    };
  }

  insertMany(items: readonly { delivery: Delivery; first: StageChange }[]): boolean[] {
    return this.db.transaction(() => items.map(({ delivery, first }) => this.insertOne(delivery, first)))();
  }

  private insertOne(d: Delivery, first: StageChange): boolean {
    const res = this.stmts.insert.run({
      id: d.id, owner: d.owner, pickup_lat: d.pickup.lat, pickup_lon: d.pickup.lon, dropoff_lat: d.dropoff.lat, dropoff_lon: d.dropoff.lon,
      stage: d.stage, drone_id: d.droneId, eta: d.eta, last_position: d.lastPosition ? JSON.stringify(d.lastPosition) : null,
      correlation_id: d.correlationId, created_at: d.createdAt, updated_at: d.updatedAt, failure_reason: d.failureReason,
      eta_dispatch: d.etaAtDispatch, eta_halfway: d.etaAtHalfway,
    });
    if (res.changes === 0) return false;
    this.stmts.addHistory.run(d.id, first.stage, first.at, first.eventId);
    return true;
  }

  get(id: string): Delivery | null {
    const row = this.stmts.get.get(id) as Row | undefined;
    return row ? toDelivery(row) : null;
  }

  history(id: string): StageChange[] {
    return (this.stmts.history.all(id) as { stage: DeliveryStage; at: number; event_id: string }[]).map((r) => ({ stage: r.stage, at: r.at, eventId: r.event_id }));
  }

  advance(id: string, change: StageChange, patch: Partial<Pick<Delivery, 'droneId' | 'eta' | 'lastPosition' | 'failureReason' | 'etaAtDispatch'>>): boolean {
    try {
      return this.advanceTx(id, change, patch);
    } catch (err) {
      // one_active_delivery_per_drone: the drone is taken; the transaction rolled back whole.
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') return false;
      throw err;
    }
  }

  private advanceTx(id: string, change: StageChange, patch: Partial<Pick<Delivery, 'droneId' | 'eta' | 'lastPosition' | 'failureReason' | 'etaAtDispatch'>>): boolean {
    return this.db.transaction(() => {
      if (this.stmts.addHistory.run(id, change.stage, change.at, change.eventId).changes === 0) return false;
      this.stmts.advance.run({
        id, stage: change.stage, at: change.at, drone_id: patch.droneId ?? null, set_eta: patch.eta !== undefined ? 1 : 0, eta: patch.eta ?? null,
        last_position: patch.lastPosition ? JSON.stringify(patch.lastPosition) : null, failure_reason: patch.failureReason ?? null,
        eta_dispatch: patch.etaAtDispatch ?? null,
      });
      return true;
    })();
  }

  reschedule(id: string, patch: Partial<Pick<Delivery, 'pickup' | 'dropoff'>>, stages: readonly DeliveryStage[], now: number): boolean {
    if (stages.length === 0) return false;
    const res = this.db.prepare(`UPDATE deliveries SET updated_at = ?,
      pickup_lat = COALESCE(?, pickup_lat), pickup_lon = COALESCE(?, pickup_lon), dropoff_lat = COALESCE(?, dropoff_lat), dropoff_lon = COALESCE(?, dropoff_lon)
      WHERE id = ? AND stage IN (${stages.map(() => '?').join(',')})`)
      .run(now, patch.pickup?.lat ?? null, patch.pickup?.lon ?? null, patch.dropoff?.lat ?? null, patch.dropoff?.lon ?? null, id, ...stages);
    return res.changes === 1;
  }

  update(id: string, patch: Partial<Pick<Delivery, 'eta' | 'lastPosition' | 'etaAtHalfway'>>, now: number): void {
    this.stmts.update.run({
      id, at: now, set_eta: patch.eta !== undefined ? 1 : 0, eta: patch.eta ?? null, last_position: patch.lastPosition ? JSON.stringify(patch.lastPosition) : null,
      eta_halfway: patch.etaAtHalfway ?? null,
    });
  }

  listByStage(stages: readonly DeliveryStage[], limit: number): Delivery[] {
    if (stages.length === 0) return [];
    const rows = this.db.prepare(`SELECT * FROM deliveries WHERE stage IN (${stages.map(() => '?').join(',')}) ORDER BY created_at, id LIMIT ?`).all(...stages, limit) as Row[];
    return rows.map(toDelivery);
  }

  list(f: ListFilter, limit: number): Delivery[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (f.stages) {
      if (f.stages.length === 0) return [];
      where.push(`stage IN (${f.stages.map(() => '?').join(',')})`);
      args.push(...f.stages);
    }
    if (f.owner !== undefined) { where.push('owner = ?'); args.push(f.owner); }
    if (f.from !== undefined) { where.push('created_at >= ?'); args.push(f.from); }
    if (f.to !== undefined) { where.push('created_at < ?'); args.push(f.to); }
    if (f.after) { where.push('(created_at > ? OR (created_at = ? AND id > ?))'); args.push(f.after.createdAt, f.after.createdAt, f.after.id); }
    const sql = `SELECT * FROM deliveries ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id LIMIT ?`;
    return (this.db.prepare(sql).all(...args, limit) as Row[]).map(toDelivery);
  }

  // IMMEDIATE: the write lock is taken now, not at the first write. Inside it, better-sqlite3
  // turns each db.transaction() into a savepoint, so a refused advance undoes only itself.
  begin(): void {
    this.db.exec('BEGIN IMMEDIATE');
  }

  commit(): void {
    this.db.exec('COMMIT');
  }

  rollback(): void {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
  }

  close(): void {
    this.db.close();
  }
}
