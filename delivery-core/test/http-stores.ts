import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { MemoryDeliveryRepository, type DeliveryRepository } from '../src/index.js';
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
