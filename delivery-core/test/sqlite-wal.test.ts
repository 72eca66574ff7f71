import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqlite } from '../src/adapters/sql/sqlite.js';

const dir = mkdtempSync(join(tmpdir(), 'aerie-wal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('SQLite durability off the event loop', () => {
  it('durable() before the first write has no WAL to sync and resolves; after a write it syncs the WAL', async () => {
    const { db, durable } = openSqlite(join(dir, 'fresh.sqlite'));
    try {
      // SQLite creates the WAL file with the first write after opening (it used to reject with ENOENT).
      await expect(durable()).resolves.toBeUndefined();
      await db.schema.createTable('t').addColumn('x', 'integer').execute();
      await expect(durable()).resolves.toBeUndefined();
    } finally {
      await db.destroy();
    }
  });
});
