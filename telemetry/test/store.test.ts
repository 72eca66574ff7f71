import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryStore } from '../src/adapters/memory-store.js';
import { openSqliteStore } from '../src/adapters/sqlite-store.js';
import { describeStoreContract } from './store-contract.js';
import { makeFlight, makeStatus } from './helpers/status.js';

describeStoreContract('memory', () => ({ store: createMemoryStore() }));
describeStoreContract('sqlite :memory:', () => ({ store: openSqliteStore(':memory:') }));
describeStoreContract('sqlite file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aerie-tel-'));
  return { store: openSqliteStore(join(dir, 'telemetry.sqlite')), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
});

describe('SQLite telemetry store on disk', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'aerie-tel-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('survives close and reopen of the same file, still deduplicating', () => {
    const path = join(dir, 'nested', 'telemetry.sqlite');
    const flight = makeFlight(5);
    const first = openSqliteStore(path);
    first.append(flight);
    first.close();

    const second = openSqliteStore(path);
    try {
      expect(second.track('drone-1', 0, Number.MAX_SAFE_INTEGER, 100).map((p) => p.ts)).toEqual(flight.map((s) => s.ts));
      expect(second.append([flight[0]!, makeStatus({ seq: 5, ts: flight[4]!.ts + 200 })])).toEqual({ inserted: 1, duplicates: 1 });
      expect(second.latest('drone-1')?.ts).toBe(flight[4]!.ts + 200);
    } finally {
      second.close();
    }
  });

  it('runs in WAL mode with the natural key and the time index the queries use', () => {
    const path = join(dir, 'telemetry.sqlite');
    openSqliteStore(path).close();
    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('user_version', { simple: true })).toBe(1);
      const pk = (db.pragma('table_info(drone_status)') as { name: string; pk: number }[])
        .filter((c) => c.pk > 0)
        .sort((a, b) => a.pk - b.pk)
        .map((c) => c.name);
      expect(pk).toEqual(['drone_id', 'boot_id', 'seq']);
      const plan = db
        .prepare<[], { detail: string }>(
          `EXPLAIN QUERY PLAN SELECT ts FROM drone_status WHERE drone_id = 'x' AND ts BETWEEN 0 AND 1 AND lat IS NOT NULL ORDER BY ts, boot_id, seq LIMIT 5`,
        )
        .all()
        .map((r) => r.detail)
        .join('; ');
      expect(plan).toContain('drone_status_by_time');
      expect(plan).not.toContain('TEMP B-TREE');
    } finally {
      db.close();
    }
  });

  it('refuses a file written by a newer schema instead of guessing', () => {
    const path = join(dir, 'telemetry.sqlite');
    const db = new Database(path);
    db.pragma('user_version = 99');
    db.close();
    expect(() => openSqliteStore(path)).toThrow(expect.objectContaining({ code: 'TEL_ERR_CONFIG' }));
  });
});
