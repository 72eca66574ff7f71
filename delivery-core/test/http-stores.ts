import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { MemoryDeliveryRepository, type DeliveryRepository, type DeliveryService } from '../src/index.js';
import { FINAL_STAGES } from '../src/domain/delivery.js';
import { openCoreDatabase } from '../src/adapters/outbox-database.js';
import { MemoryWorkflowStore } from '../src/workflow/memory-store.js';
import type { WorkflowStore } from '../src/workflow/ports.js';
import { startPostgres, type RunningPostgres } from '../../test-support/postgres.js';

// Issue 7: "the same suite runs on both" SQLite and PostgreSQL — for the HTTP-level suites too.
// Each test gets a store of its own: a fresh SQLite file, or a fresh database on one Debian
// PostgreSQL per test file (started here on loopback; a missing server fails the file, never
// skips it). The SQL stores are opened as app.ts opens them: deliveries and the workflow's
// tables (accounts, packages, sagas, outbox) on one connection or pool (openCoreDatabase).

export type StoreKind = 'memory' | 'sqlite' | 'postgres';

/** Where a SQL store lives; the same place can be opened again (a restart). */
export interface StorePlace {
  kind: StoreKind;
  dbPath: string;
  databaseUrl: string | null;
}

export interface OpenStore {
  repo: DeliveryRepository;
  records: WorkflowStore;
  /** Ends the connection (pool); the data stays at its place. */
  readonly close: () => Promise<void>;
}

export interface HttpStores {
  /** A new, empty place of this kind: its own file or its own PostgreSQL database. */
  place(kind: StoreKind): Promise<StorePlace>;
  /** The store at `place`, migrated; memory has no place and starts empty each time. */
  open(place: StorePlace): Promise<OpenStore>;
  /** place() and open() in one, for a test that never restarts. */
  fresh(kind: StoreKind): Promise<OpenStore>;
}

/**
 * Registers the file's hooks (PostgreSQL started once before all, stopped after all) and
 * returns the store factory. Call at the top of a test file.
 */
export function httpStores(kinds: readonly StoreKind[]): HttpStores {
  const dir = mkdtempSync(join(tmpdir(), 'aerie-http-stores-'));
  let postgres: RunningPostgres | undefined;
  let n = 0;
  // A test needing PostgreSQL fails when it is missing: startPostgres throws, naming the package.
  beforeAll(async () => {
    if (kinds.includes('postgres')) postgres = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    if (postgres) await sessionsEnded(postgres.port);
    await postgres?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const place = async (kind: StoreKind): Promise<StorePlace> => {
    if (kind === 'postgres') {
      if (!postgres) throw new Error('PostgreSQL was not started for this file: name it in httpStores([...])');
      return { kind, dbPath: '', databaseUrl: await postgres.createDatabase() };
    }
    return { kind, dbPath: kind === 'sqlite' ? join(dir, `s${++n}.sqlite`) : ':memory:', databaseUrl: null };
  };
  const open = async (at: StorePlace): Promise<OpenStore> => {
    if (at.kind === 'memory') {
      const repo = new MemoryDeliveryRepository();
      return { repo, records: new MemoryWorkflowStore(), close: () => Promise.resolve(repo.close()) };
    }
    const { repo, records } = await openCoreDatabase(at);
    // The repository owns the shared connection: its close() ends it for both.
    return { repo, records, close: () => repo.close() };
  };
  return { place, open, fresh: async (kind) => open(await place(kind)) };
}

/**
 * pg's pool.end() resolves once its clients are told to end, before the server has closed their
 * sessions; a server stopped in that gap (a fast shutdown) answers them FATAL 57P01, an error
 * nobody listens to any more. Wait until only this query's own session is left.
 */
async function sessionsEnded(port: number): Promise<void> {
  const c = new pg.Client({ connectionString: `postgres://aerie@127.0.0.1:${port}/postgres` });
  await c.connect();
  try {
    for (let k = 0; ; k++) {
      const r = await c.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()");
      if (r.rows[0]?.n === '0') return;
      if (k > 2000) throw new Error(`${r.rows[0]?.n} PostgreSQL sessions still open after the file's tests: a store was not closed`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } finally {
    await c.end();
  }
}

/**
 * Stops a core built on `store` and closes the store, once nothing is left in flight on it: the
 * saga frees an ended delivery's drone in a stage listener after the final stage is stored, so
 * a test that ends on a final stage would otherwise close the store under that write.
 */
export async function stopCore(service: DeliveryService, app: FastifyInstance, store: OpenStore): Promise<void> {
  service.stop();
  await service.workflow.stop();
  await app.close();
  await service.settled();
  for (let k = 0; ; k++) {
    const { holders } = await service.workflow.reserved();
    const ended = [];
    for (const id of holders) {
      const d = await store.repo.get(id);
      if (d && FINAL_STAGES.has(d.stage)) ended.push(id);
    }
    if (ended.length === 0) break;
    if (k > 2000) throw new Error(`drones still held for ended deliveries ${ended.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await store.close();
}
