import type { Generated, Kysely } from 'kysely';
import { Migrator, type Migration, type MigrationProvider } from 'kysely/migration';
import { columnTypes, runStatements } from './sql/migrations.js';

/** The workflow's tables as the typed query layer sees them (snake_case as stored). */
export interface WorkflowDatabase {
  accounts: { id: string; kind: string; name: string; business_id: string | null; status: string; created_at: number };
  packages: { id: string; owner: string | null; size: string; weight_kg: number; tag: string | null; delivery_id: string | null; created_at: number };
  sagas: {
    id: string; kind: string; status: string; step: number; data: string; attempts: number; next_attempt_at: number;
    error: string | null; version: number; created_at: number; updated_at: number;
  };
  outbox: { seq: Generated<number>; id: string; type: string; aggregate_id: string; payload: string; created_at: number; sent_at: number | null };
  drone_reservations: { drone_id: string; holder: string; reserved_at: number };
  saga_leases: { saga_id: string; owner: string; expires_at: number };
}

export type WorkflowDialect = 'sqlite' | 'postgres';

/**
 * Migrations of the workflow's tables, in the core's mechanism (kysely's Migrator, names in
 * order, never edit one that has shipped, IF NOT EXISTS because SQLite's are not transactional),
 * with their own history table so they grow independently of the delivery tables' list.
 */
function migrations(dialect: WorkflowDialect): Record<string, Migration> {
  const t = columnTypes(dialect);
  const run = runStatements;
  return {
    '0001_accounts_packages': {
      up: (db) => run(db, [
        `CREATE TABLE IF NOT EXISTS accounts (
          id ${t.id} PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, business_id ${t.id}, status TEXT NOT NULL, created_at ${t.ms} NOT NULL
        )`,
        'CREATE INDEX IF NOT EXISTS accounts_business ON accounts (business_id, id)',
        // delivery_id UNIQUE: a delivery carries one package, whatever runs at once.
        `CREATE TABLE IF NOT EXISTS packages (
          id ${t.id} PRIMARY KEY, owner ${t.id}, size TEXT NOT NULL, weight_kg ${t.real} NOT NULL, tag TEXT,
          delivery_id ${t.id} UNIQUE, created_at ${t.ms} NOT NULL
        )`,
        'CREATE INDEX IF NOT EXISTS packages_owner ON packages (owner, id)',
      ]),
    },
    '0002_sagas_outbox_reservations': {
      up: (db) => run(db, [
        `CREATE TABLE IF NOT EXISTS sagas (
          id ${t.id} PRIMARY KEY, kind TEXT NOT NULL, status TEXT NOT NULL, step INTEGER NOT NULL, data TEXT NOT NULL,
          attempts INTEGER NOT NULL, next_attempt_at ${t.ms} NOT NULL, error TEXT, version INTEGER NOT NULL,
          created_at ${t.ms} NOT NULL, updated_at ${t.ms} NOT NULL
        )`,
        `CREATE INDEX IF NOT EXISTS sagas_due ON sagas (next_attempt_at, id) WHERE status IN ('running', 'compensating')`,
        `CREATE TABLE IF NOT EXISTS outbox (
          seq ${t.serial}, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, aggregate_id ${t.id} NOT NULL, payload TEXT NOT NULL,
          created_at ${t.ms} NOT NULL, sent_at ${t.ms}
        )`,
        'CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (seq) WHERE sent_at IS NULL',
        // One holder per drone and one drone per holder: no drone is ever reserved for two deliveries.
        `CREATE TABLE IF NOT EXISTS drone_reservations (
          drone_id ${t.id} PRIMARY KEY, holder ${t.id} NOT NULL UNIQUE, reserved_at ${t.ms} NOT NULL
        )`,
      ]),
    },
    // Several core instances on one PostgreSQL (issue 8): the instance that may drive a saga, until expires_at.
    '0003_saga_leases': {
      up: (db) => run(db, [
        `CREATE TABLE IF NOT EXISTS saga_leases (saga_id ${t.id} PRIMARY KEY, owner TEXT NOT NULL, expires_at ${t.ms} NOT NULL)`,
      ]),
    },
  };
}

class Provider implements MigrationProvider {
  constructor(private readonly dialect: WorkflowDialect) {}
  getMigrations(): Promise<Record<string, Migration>> {
    return Promise.resolve(migrations(this.dialect));
  }
}

export async function migrateWorkflow(db: Kysely<unknown>, dialect: WorkflowDialect): Promise<string[]> {
  const migrator = new Migrator({
    db, provider: new Provider(dialect), migrationTableName: 'workflow_migration', migrationLockTableName: 'workflow_migration_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(`workflow migration failed: ${JSON.stringify(error)}`);
  return (results ?? []).map((r) => r.migrationName);
}
