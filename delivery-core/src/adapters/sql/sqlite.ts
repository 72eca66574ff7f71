import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';
import type { CoreDatabase } from './schema.js';

const MAX_CACHED_STATEMENTS = 500;

/**
 * better-sqlite3 behind kysely. WAL with synchronous=FULL: a commit is on disk (the WAL
 * fsynced) before it returns. Kysely prepares every query afresh; a prepared statement per
 * distinct SQL text is kept instead (the texts are few: the query shapes times the IN-list and
 * batch sizes), which is most of the per-query cost on the ingestion path.
 */
export function openSqlite(path: string): Kysely<CoreDatabase> {
  const db = new Database(path);
  // Stores written before the migrations table (schema counted in user_version) are not adopted.
  const legacy = db.pragma('user_version', { simple: true }) as number;
  if (legacy !== 0) {
    db.close();
    throw new Error(`${path}: a delivery store from an older delivery-core (user_version ${legacy}); move it away to start afresh`);
  }
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  const cache = new Map<string, SqliteStatement>();
  const database: SqliteDatabase = {
    close: () => db.close(),
    prepare: (text) => {
      let stmt = cache.get(text);
      if (!stmt) {
        if (cache.size >= MAX_CACHED_STATEMENTS) cache.delete(cache.keys().next().value!);
        stmt = db.prepare(text);
        cache.set(text, stmt);
      }
      return stmt;
    },
  };
  return new Kysely<CoreDatabase>({ dialect: new SqliteDialect({ database }) });
}
