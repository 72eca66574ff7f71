import type { Kysely } from 'kysely';
import { SqlDeliveryRepository } from './sql/delivery-repository.js';
import type { SqlDialectName } from './sql/schema.js';
import { openSqlite } from './sql/sqlite.js';
import { openPostgres } from './sql/postgres.js';
import { SqlWorkflowStore } from './outbox-sql.js';
import type { WorkflowDatabase } from './outbox-schema.js';

/**
 * One database for the deliveries and the workflow's tables (accounts, packages, sagas, outbox,
 * drone reservations): one SQLite connection — so the two never wait on each other's locks —
 * or one PostgreSQL pool. The repository's close() ends the connection.
 */
export async function openCoreDatabase(where: { databaseUrl: string | null; dbPath: string }, maxConnections?: number): Promise<{ repo: SqlDeliveryRepository; records: SqlWorkflowStore }> {
  const dialect: SqlDialectName = where.databaseUrl ? 'postgres' : 'sqlite';
  const { db, durable } = where.databaseUrl ? { db: openPostgres(where.databaseUrl, maxConnections), durable: () => Promise.resolve() } : openSqlite(where.dbPath);
  const repo = SqlDeliveryRepository.open(db, dialect, durable);
  try {
    // Migrations run at open: a store that cannot be brought up to date stops the start here.
    await repo.opened();
    const records = await SqlWorkflowStore.open(db as unknown as Kysely<WorkflowDatabase>, dialect, false, durable);
    return { repo, records };
  } catch (err) {
    await repo.close();
    throw err;
  }
}
