import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll } from 'vitest';
import { MemoryWorkflowStore } from '../src/workflow/memory-store.js';
import { SqlWorkflowStore } from '../src/adapters/outbox-sql.js';
import type { WorkflowDatabase } from '../src/adapters/outbox-schema.js';
import { openSqlite } from '../src/adapters/sql/sqlite.js';
import { openPostgres } from '../src/adapters/sql/postgres.js';
import { openCoreDatabase } from '../src/adapters/outbox-database.js';
import { startPostgres, type RunningPostgres } from '../../test-support/postgres.js';
import { workflowStoreContract } from './workflow-store-contract.js';
import { workflowSuite } from './workflow-suite.js';

const dir = mkdtempSync(join(tmpdir(), 'aerie-h6-wf-'));
let postgres: RunningPostgres;
// A test needing PostgreSQL fails when it is missing: startPostgres throws, naming the package.
beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  await postgres?.stop();
  rmSync(dir, { recursive: true, force: true });
});
let n = 0;

type Dialect = 'sqlite' | 'postgres';
/** The deliveries and the workflow on one database connection (pool), as app.ts wires them. */
async function openBoth(dialect: Dialect, where: string) {
  const { repo, records } = await openCoreDatabase(dialect === 'sqlite' ? { dbPath: where, databaseUrl: null } : { dbPath: '', databaseUrl: where }, 20);
  return { deliveries: repo, store: records };
}

/** A store alone owns its connection. */
async function openStore(dialect: Dialect, where: string) {
  if (dialect === 'postgres') return SqlWorkflowStore.open(openPostgres(where, 20) as unknown as Kysely<WorkflowDatabase>, dialect, true);
  const { db, durable } = openSqlite(where);
  return SqlWorkflowStore.open(db as unknown as Kysely<WorkflowDatabase>, dialect, true, durable);
}

const where = async (dialect: Dialect) => (dialect === 'sqlite' ? join(dir, `wf-${++n}.sqlite`) : postgres.createDatabase());

workflowStoreContract('memory', () => {
  const store = new MemoryWorkflowStore();
  return Promise.resolve({ store, reopen: () => Promise.resolve(store), dispose: () => Promise.resolve() });
});

for (const dialect of ['sqlite', 'postgres'] as const) {
  workflowStoreContract(dialect, async () => {
    const at = await where(dialect);
    return { store: await openStore(dialect, at), reopen: () => openStore(dialect, at), dispose: () => Promise.resolve() };
  });

  workflowSuite(dialect, async () => {
    const at = await where(dialect);
    return { open: () => openBoth(dialect, at), dispose: () => Promise.resolve(), concurrentHandles: dialect === 'postgres' };
  });
}
