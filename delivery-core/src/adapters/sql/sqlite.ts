import { fsync, openSync, closeSync } from 'node:fs';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql, type SqliteDatabase, type SqliteStatement } from 'kysely';
import type { CoreDatabase } from './schema.js';

const MAX_CACHED_STATEMENTS = 500;
/** WAL fsyncs between checkpoints (each commit's frames stay in the WAL until one). */
const SYNCS_PER_CHECKPOINT = 200;
const fsyncAsync = promisify(fsync);

export interface SqliteStore {
  db: Kysely<CoreDatabase>;
  /** Resolves once every transaction committed before the call is on disk. */
  durable: () => Promise<void>;
}

/**
 * better-sqlite3 behind kysely, in WAL mode, durable on power loss — with the fsync off the
 * event loop. better-sqlite3 is synchronous, so synchronous=FULL would block every request for
 * each commit's fsync (milliseconds). Instead SQLite runs with synchronous=OFF (a commit only
 * write()s its WAL frames) and `durable()` fsyncs the WAL on libuv's thread pool, one fsync for
 * every commit written before it started (group commit at the file level); callers answer only
 * after it. SQLite's own checkpoints are off: a checkpoint copies WAL frames into the database
 * file and lets the next writer overwrite the WAL, so it runs here between an fsync of the WAL
 * and one of the database file, holding the connection (sqlite.org/wal.html §"Checkpointing").
 *
 * Kysely prepares every query afresh; a prepared statement per distinct SQL text is kept
 * instead (the texts are few), which is most of the per-query cost on the ingestion path.
 */
export function openSqlite(path: string): SqliteStore {
  const raw = new Database(path);
  // Stores written before the migrations table (schema counted in user_version) are not adopted.
  const legacy = raw.pragma('user_version', { simple: true }) as number;
  if (legacy !== 0) {
    raw.close();
    throw new Error(`${path}: a delivery store from an older delivery-core (user_version ${legacy}); move it away to start afresh`);
  }
  raw.pragma('journal_mode = WAL');
  raw.pragma('foreign_keys = ON');
  raw.pragma('busy_timeout = 5000');
  const onDisk = !raw.memory;
  raw.pragma(onDisk ? 'synchronous = OFF' : 'synchronous = FULL');
  if (onDisk) raw.pragma('wal_autocheckpoint = 0');
  const cache = new Map<string, SqliteStatement>();
  const database: SqliteDatabase = {
    close: () => {
      // The last connection checkpoints and removes the WAL as it closes: with FULL, that
      // checkpoint syncs the database file first.
      raw.pragma('synchronous = FULL');
      raw.close();
    },
    prepare: (text) => {
      let stmt = cache.get(text);
      if (!stmt) {
        if (cache.size >= MAX_CACHED_STATEMENTS) cache.delete(cache.keys().next().value!);
        stmt = raw.prepare(text);
        cache.set(text, stmt);
      }
      return stmt;
    },
  };
  const db = new Kysely<CoreDatabase>({ dialect: new SqliteDialect({ database }) });
  if (!onDisk) return { db, durable: () => Promise.resolve() };
  const wal = new WalSync(path, db);
  return { db, durable: () => wal.sync() };
}

/** Group fsync of the WAL, and the checkpoints that must sit between fsyncs. */
class WalSync {
  private running: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  private syncs = 0;
  private checkpointing = false;

  constructor(private readonly path: string, private readonly db: Kysely<CoreDatabase>) {}

  sync(): Promise<void> {
    if (!this.running) return this.start();
    // The fsync under way may have begun before the caller's commit was written: the next covers it.
    this.queued ??= this.running.then(() => this.startQueued(), () => this.startQueued());
    return this.queued;
  }

  private startQueued(): Promise<void> {
    this.queued = null;
    return this.start();
  }

  private start(): Promise<void> {
    const p = this.fsyncFile(`${this.path}-wal`).finally(() => {
      if (this.running === p) this.running = null;
      if (++this.syncs % SYNCS_PER_CHECKPOINT === 0) void this.checkpoint();
    });
    this.running = p;
    return p;
  }

  /**
   * Holding the connection, so no commit lands in between: WAL on disk, frames copied into the
   * database file, database file on disk; only then may the WAL be overwritten. An error here
   * loses nothing (the frames stay in the WAL): the next checkpoint tries again.
   */
  private async checkpoint(): Promise<void> {
    if (this.checkpointing) return;
    this.checkpointing = true;
    try {
      await this.db.connection().execute(async (conn) => {
        await this.fsyncFile(`${this.path}-wal`);
        await sql`PRAGMA wal_checkpoint(PASSIVE)`.execute(conn);
        await this.fsyncFile(this.path);
      });
    } catch {
      // kept for the next checkpoint
    } finally {
      this.checkpointing = false;
    }
  }

  private async fsyncFile(file: string): Promise<void> {
    // A fresh descriptor each time: fsync flushes the file's (inode's) data whichever descriptor wrote it.
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch (err) {
      // SQLite creates the WAL with the first write after opening: none yet, nothing to sync.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && file.endsWith('-wal')) return;
      throw err;
    }
    try {
      await fsyncAsync(fd);
    } finally {
      closeSync(fd);
    }
  }
}
