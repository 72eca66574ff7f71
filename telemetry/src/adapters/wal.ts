import { closeSync, fdatasyncSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { systemClock } from '@aerie/contracts';
import type { Clock } from '@aerie/contracts';
import type { Logger } from '../ports.js';

export interface WalOptions {
  dir: string;
  logger: Logger;
  clock?: Clock;
  /** the open segment is sealed this often when it holds records (default 1000 ms) */
  segmentMs?: number;
  /**
   * fdatasync the open segment this often, and every segment when sealed (default 0: never).
   * A kill -9 loses nothing written with write(2): the page cache belongs to the kernel, not the
   * process. Only a machine crash or power cut loses unsynced pages, and that is what this buys.
   */
  fsyncMs?: number;
  /** points handed to the time-series writer so far (BufferedWriter stats().accepted) */
  handed(): number;
  /** every point before this index is written, refused, dropped or parked on disk (BufferedWriter durableUpTo()) */
  settled(): number;
}

export interface WalStats {
  /** records appended by this process */
  appended: number;
  /** records replayed from segments an earlier process left */
  replayed: number;
  /** segments whose tail was cut or corrupt (TEL_ERR_WAL_CORRUPT) */
  corrupt: number;
  /** appends that failed (TEL_ERR_WAL_WRITE): those messages were acknowledged without a log record */
  failed: number;
  /** segment files on disk, the open one included */
  segments: number;
}

export interface Wal {
  /** Feeds every good record of the segments left by an earlier process to take(), oldest first. */
  replay(take: (topic: string, payload: Buffer) => void): void;
  /** Synchronously appends one taken message; false (counted, logged) when the disk refused it. */
  append(topic: string, payload: Buffer): boolean;
  /** Runs before a segment is sealed, so what the caller batches itself (the SQLite history) is stored first. */
  beforeSeal(fn: () => void): void;
  stats(): WalStats;
  /** Seals the open segment and deletes every settled one; call after the writer closed. Idempotent. */
  close(): void;
}

const HEADER = 10; // u32 body length, u32 crc32 of the body, u16 topic length
const SEGMENT = /^(\d{12})\.wal$/;

/**
 * Write-ahead log of taken MQTT messages, so a message is on disk before mqtt.js sends its PUBACK
 * (mqtt.js emits 'message' and only then calls handleMessage, whose callback sends the PUBACK:
 * mqtt/build/lib/handlers/publish.js, QoS 1). A segment is deleted once the writer has settled
 * every point handed to it up to the segment's seal; a restart replays the segments still there.
 * Replayed points carry the drone's timestamp and tags, so InfluxDB overwrites instead of
 * duplicating (domain/measurements.ts).
 */
export function openWal(o: WalOptions): Wal {
  const clock = o.clock ?? systemClock;
  const { logger } = o;
  mkdirSync(o.dir, { recursive: true });
  const leftover = readdirSync(o.dir).filter((f) => SEGMENT.test(f)).sort();
  let nextId = leftover.length === 0 ? 1 : Number(SEGMENT.exec(leftover.at(-1)!)![1]) + 1;
  const sealed: { file: string; upTo: number }[] = [];
  const stats = { appended: 0, replayed: 0, corrupt: 0, failed: 0 };
  let fd: number | null = null;
  let file = '';
  let records = 0;
  let dirty = false;
  let failing = false;
  let closed = false;
  let hook: () => void = () => undefined;

  const openSegment = (): void => {
    file = join(o.dir, `${String(nextId++).padStart(12, '0')}.wal`);
    fd = openSync(file, 'wx');
    records = 0;
  };
  const sync = (): void => {
    if (fd !== null && dirty && (o.fsyncMs ?? 0) > 0) fdatasyncSync(fd);
    dirty = false;
  };
  const seal = (): void => {
    if (fd === null || records === 0) return;
    hook();
    sync();
    closeSync(fd);
    fd = null;
    sealed.push({ file, upTo: o.handed() });
  };
  const prune = (): void => {
    const settled = o.settled();
    while (sealed[0] !== undefined && sealed[0].upTo <= settled) rmSync(sealed.shift()!.file, { force: true });
  };
  const tick = (): void => {
    try {
      seal();
      prune();
    } catch (err) {
      logger.error(`telemetry wal rotate failed code=TEL_ERR_WAL_WRITE error=${JSON.stringify(String(err))}`);
    }
  };
  const timer = clock.setInterval(tick, o.segmentMs ?? 1000);
  const syncTimer = (o.fsyncMs ?? 0) > 0 ? clock.setInterval(sync, o.fsyncMs!) : undefined;

  return {
    replay(take) {
      for (const name of leftover) {
        const path = join(o.dir, name);
        const buf = readFileSync(path);
        let at = 0;
        let good = 0;
        while (at < buf.length) {
          const bad = (why: string): void => {
            stats.corrupt++;
            logger.error(`telemetry wal corrupt code=TEL_ERR_WAL_CORRUPT segment=${name} offset=${at} replayed=${good} detail=${JSON.stringify(why)}`);
          };
          if (buf.length - at < HEADER) {
            bad(`truncated header: ${buf.length - at} bytes left`);
            break;
          }
          const len = buf.readUInt32LE(at);
          if (len < 2 || at + 8 + len > buf.length) {
            bad(`record of ${len} bytes runs past the end (${buf.length - at - 8} left)`);
            break;
          }
          const body = buf.subarray(at + 8, at + 8 + len);
          const tl = body.readUInt16LE(0);
          if (crc32(body) !== buf.readUInt32LE(at + 4) || 2 + tl > len) {
            // Records after a bad one cannot be trusted to start where this one says it ends.
            bad('checksum mismatch');
            break;
          }
          take(body.toString('utf8', 2, 2 + tl), Buffer.from(body.subarray(2 + tl)));
          good++;
          at += 8 + len;
        }
        stats.replayed += good;
        sealed.push({ file: path, upTo: o.handed() });
      }
      if (leftover.length > 0) logger.info(`telemetry wal replayed segments=${leftover.length} records=${stats.replayed} corrupt=${stats.corrupt}`);
    },
    append(topic, payload) {
      if (closed) return false;
      try {
        if (fd === null) openSegment();
        const tl = Buffer.byteLength(topic);
        const rec = Buffer.allocUnsafe(HEADER + tl + payload.length);
        rec.writeUInt32LE(2 + tl + payload.length, 0);
        rec.writeUInt16LE(tl, 8);
        rec.write(topic, HEADER, 'utf8');
        payload.copy(rec, HEADER + tl);
        rec.writeUInt32LE(crc32(rec.subarray(8)), 4);
        // One write(2) per record: a kill -9 cuts at most this record, which replay detects.
        writeSync(fd!, rec);
        records++;
        dirty = true;
        stats.appended++;
        failing = false;
        return true;
      } catch (err) {
        stats.failed++;
        // One line per outage (disk full), not one per message.
        if (!failing) logger.error(`telemetry wal append failed code=TEL_ERR_WAL_WRITE dir=${o.dir} error=${JSON.stringify(String(err))}`);
        failing = true;
        return false;
      }
    },
    beforeSeal(fn) {
      hook = fn;
    },
    stats: () => ({ ...stats, segments: sealed.length + (fd === null ? 0 : 1) }),
    close() {
      if (closed) return;
      closed = true;
      clock.clearInterval(timer);
      if (syncTimer !== undefined) clock.clearInterval(syncTimer);
      tick();
      if (fd !== null) {
        // An empty open segment: nothing to keep.
        closeSync(fd);
        rmSync(file, { force: true });
        fd = null;
      }
    },
  };
}
