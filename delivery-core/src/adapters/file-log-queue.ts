import { randomUUID } from 'node:crypto';
import {
  closeSync, existsSync, fdatasync, fdatasyncSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, unlinkSync, writeFileSync, writeSync,
} from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { IngestQueue, QueuedRecord } from '../ports.js';

/** Each record: payload length and CRC-32 of the payload (uint32 LE), then the payload. A zero length ends a segment. */
const HEADER = 8;
const MAX_RECORD = 1 << 20;
const SEGMENT = /^(\d{20})\.log$/;
const NEXT = 'segment.next';
const ZEROS = Buffer.alloc(1 << 20);

export interface FileLogOptions {
  /** The size of each segment file, written with zeros before it is used. */
  segmentBytes: number;
  /** Most records written and fsynced together. */
  maxGroup: number;
  /** Most fdatasyncs under way at once (libuv's thread pool has 4 threads, shared with SQLite's). */
  maxInFlight: number;
}

interface Written {
  group: Waiting[];
  ends: number[];
  seq: number;
}

interface Waiting {
  frame: Buffer;
  resolve: (end: number) => void;
  reject: (err: unknown) => void;
}

/**
 * The embedded ingestion queue: an append-only log in segment files named by their first
 * position (Kafka's layout), each record framed by its length and CRC-32. Appends that arrive
 * in the same event-loop turn are written together and made durable by one fdatasync on libuv's
 * thread pool (group commit: the PostgreSQL/InnoDB technique); each append resolves only after
 * it. While an fdatasync is under way the next group gathers (`maxInFlight` > 1 writes it and
 * starts its own at once; one measured best here: concurrent fdatasyncs of one file serialise
 * in the kernel anyway), so the slower the disk, the larger the groups.
 *
 * Segments are written full of zeros (and fsynced) ahead of use, the next one in the background,
 * as PostgreSQL does its WAL segments: a record then overwrites blocks the file already has, so
 * its fdatasync flushes data only, without the journal commit a growing file needs for its new
 * size — the commit that waits behind every other writer of the file system.
 *
 * A crash can leave only the last group half-written (a segment is fsynced before the next
 * begins): recovery keeps the records whose frame and CRC are whole, up to the first zero length,
 * and zeroes what a torn write left after them. Segments wholly before the consumer's position
 * are deleted.
 */
export class FileLogQueue implements IngestQueue {
  readonly id: string;
  private fd = -1;
  /** First position of the open segment, its size, and the position the next record starts at. */
  private segmentStart = 0;
  private capacity = 0;
  private position = 0;
  private waiting: Waiting[] = [];
  private scheduled = false;
  /** fdatasyncs under way, the writes they have not yet answered, and whether a segment roll waits for them. */
  private syncing = 0;
  private unsynced: Written[] = [];
  private seq = 0;
  private rolling = false;
  /** The next segment, being zero-filled in the background (resolves with its temporary path). */
  private next: Promise<string> | null = null;
  private closed = false;
  /** Segment start positions, oldest first (the last is the open one). */
  private segments: number[] = [];
  /** syncMs: wall time spent in this log's fdatasyncs (when it is near the elapsed time, the disk is the bound). */
  readonly stats = { groups: 0, records: 0, largestGroup: 0, segments: 0, syncMs: 0 };
  private readonly options: FileLogOptions;

  constructor(private readonly dir: string, options: Partial<FileLogOptions> = {}) {
    this.options = { segmentBytes: 16 * 1024 * 1024, maxGroup: 4096, maxInFlight: 1, ...options };
    mkdirSync(dir, { recursive: true });
    // The consumer's position in the database is kept under this name: a new directory is a new queue.
    const idFile = join(dir, 'queue-id');
    if (!existsSync(idFile)) {
      writeFileSync(idFile, `${randomUUID()}\n`, { flush: true });
      fsyncDir(dir);
    }
    this.id = readFileSync(idFile, 'utf8').trim();
  }

  // async: a damaged log rejects the start rather than throwing through it.
  // eslint-disable-next-line @typescript-eslint/require-await
  async open(from: number): Promise<QueuedRecord[]> {
    const out: QueuedRecord[] = [];
    const starts = readdirSync(this.dir).map((f) => SEGMENT.exec(f)?.[1]).filter((x): x is string => x !== undefined).map(Number).sort((a, b) => a - b);
    let end = 0;
    let size = 0;
    starts.forEach((start, k) => {
      const last = k === starts.length - 1;
      const file = this.file(start);
      const bytes = readFileSync(file);
      let at = 0;
      while (at + HEADER <= bytes.length) {
        const len = bytes.readUInt32LE(at);
        if (len === 0 || len > MAX_RECORD || at + HEADER + len > bytes.length) break;
        const payload = bytes.subarray(at + HEADER, at + HEADER + len);
        if (crc32(payload) !== bytes.readUInt32LE(at + 4)) break;
        at += HEADER + len;
        if (start + at > from) out.push({ payload: Buffer.from(payload), end: start + at });
      }
      const dirty = endOfData(bytes, at);
      if (dirty > at) {
        // Only the last segment can hold a write cut short by a crash; elsewhere it is damage.
        if (!last) throw new Error(`${file}: record at byte ${at} is damaged (the ingestion queue needs repair; it was fsynced before the next segment began)`);
        const fd = openSync(file, 'r+');
        try {
          for (let off = at; off < dirty; off += ZEROS.length) writeSync(fd, ZEROS, 0, Math.min(ZEROS.length, dirty - off), off);
          fdatasyncSync(fd);
        } finally {
          closeSync(fd);
        }
      }
      end = start + at;
      size = bytes.length;
    });
    // Segments the database has consumed entirely.
    this.segments = starts;
    this.dropBefore(from);
    const last = this.segments.at(-1);
    if (last !== undefined && end >= from) {
      this.segmentStart = last;
      this.capacity = Math.max(size, this.options.segmentBytes);
      this.position = end;
      this.fd = openSync(this.file(last), 'r+');
      // What a kill -9 left in the page cache is made durable before it is drained.
      fsyncSync(this.fd);
    } else {
      // An empty directory, or a log that ends before the consumer's position: start there.
      const tmp = join(this.dir, NEXT);
      zeroFill(tmp, this.options.segmentBytes);
      this.useSegment(tmp, Math.max(end, from));
    }
    this.prepareNext();
    return out;
  }

  append(payload: Buffer): Promise<number> {
    if (this.fd < 0 || this.closed) return Promise.reject(new Error('ingestion queue is not open'));
    if (payload.length === 0 || payload.length > MAX_RECORD || HEADER + payload.length > this.options.segmentBytes) {
      return Promise.reject(new Error(`a record holds 1 to ${Math.min(MAX_RECORD, this.options.segmentBytes - HEADER)} bytes, not ${payload.length}`));
    }
    const frame = Buffer.allocUnsafe(HEADER + payload.length);
    frame.writeUInt32LE(payload.length, 0);
    frame.writeUInt32LE(crc32(payload), 4);
    payload.copy(frame, HEADER);
    return new Promise<number>((resolve, reject) => {
      this.waiting.push({ frame, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // setImmediate runs after the poll phase: every request parsed in this turn joins the group.
        setImmediate(() => this.flush());
      }
    });
  }

  /**
   * Writes the waiting records that fit in the segment (one write) and starts their fdatasync
   * off the event loop (up to `maxInFlight` under way): an fdatasync makes durable everything
   * written before it began, so when one completes, its group and every group written before it
   * are answered. A record that does not fit rolls the segment first.
   */
  private flush(): void {
    this.scheduled = false;
    if (this.waiting.length === 0 || this.fd < 0 || this.rolling || this.syncing >= this.options.maxInFlight) return;
    let room = this.capacity - (this.position - this.segmentStart);
    let n = 0;
    while (n < this.waiting.length && n < this.options.maxGroup && this.waiting[n]!.frame.length <= room) room -= this.waiting[n++]!.frame.length;
    if (n === 0) {
      // The segment is whole on disk before the next one begins (recovery relies on it).
      this.rolling = true;
      if (this.syncing === 0) this.roll();
      return;
    }
    const group = this.waiting.splice(0, n);
    const buf = group.length === 1 ? group[0]!.frame : Buffer.concat(group.map((w) => w.frame));
    const ends: number[] = [];
    let at = this.position;
    for (const w of group) ends.push((at += w.frame.length));
    try {
      const base = this.position - this.segmentStart;
      let off = 0;
      while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off, base + off);
    } catch (err) {
      // A short or failed write leaves a torn tail that recovery zeroes: nothing after it is acknowledged.
      this.fail(group, err);
      return;
    }
    this.position = at;
    const written: Written = { group, ends, seq: ++this.seq };
    this.unsynced.push(written);
    this.syncing += 1;
    const began = performance.now();
    fdatasync(this.fd, (err) => {
      this.syncing -= 1;
      this.stats.syncMs += performance.now() - began;
      if (err) {
        this.fail(this.unsynced.splice(0).flatMap((w) => w.group), err);
        return;
      }
      this.synced(written.seq);
      if (this.rolling) {
        if (this.syncing === 0 && !this.closed) this.roll();
      } else if (this.waiting.length > 0 && !this.scheduled) {
        this.flush();
      }
    });
    // More arrived than one group takes (or a slot is free for what waits): the next turn writes it.
    if (this.waiting.length > 0 && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** The fdatasync started after write `seq` completed: that write and every one before it are durable. */
  private synced(seq: number): void {
    while (this.unsynced.length > 0 && this.unsynced[0]!.seq <= seq) {
      const { group, ends } = this.unsynced.shift()!;
      this.stats.groups += 1;
      this.stats.records += group.length;
      this.stats.largestGroup = Math.max(this.stats.largestGroup, group.length);
      group.forEach((w, k) => w.resolve(ends[k]!));
    }
  }

  /** Every write of the open segment is durable: the prepared one takes over at the current position. */
  private roll(): void {
    const next = this.next ?? this.prepare();
    this.next = null;
    next.then((tmp) => {
      if (this.closed) return;
      closeSync(this.fd);
      this.useSegment(tmp, this.position);
      this.rolling = false;
      this.prepareNext();
      this.flush();
    }, (err: unknown) => this.fail([], err));
  }

  private useSegment(tmp: string, start: number): void {
    renameSync(tmp, this.file(start));
    fsyncDir(this.dir);
    this.fd = openSync(this.file(start), 'r+');
    this.segmentStart = start;
    this.position = start;
    this.capacity = this.options.segmentBytes;
    this.segments.push(start);
    this.stats.segments += 1;
  }

  private prepareNext(): void {
    this.next = this.prepare();
    // Reported by the roll that needs it; a queue closed before then does not care.
    this.next.catch(() => undefined);
  }

  /** The next segment file, zero-filled and fsynced on the thread pool while the current one fills. */
  private async prepare(): Promise<string> {
    const tmp = join(this.dir, NEXT);
    const fh = await openFile(tmp, 'w');
    try {
      for (let off = 0; off < this.options.segmentBytes; off += ZEROS.length) {
        await fh.write(ZEROS, 0, Math.min(ZEROS.length, this.options.segmentBytes - off), off);
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    return tmp;
  }

  /**
   * A write or fsync failed: what it held may or may not be on disk, so the queue stops taking
   * records (each later append rejects) rather than acknowledge past a hole; a restart recovers.
   */
  private fail(group: Waiting[], err: unknown): void {
    this.closed = true;
    for (const w of [...group, ...this.waiting.splice(0)]) w.reject(err);
  }

  /** Recovered and taking appends: not closed, and no failed write since (readiness). */
  get isOpen(): boolean {
    return this.fd >= 0 && !this.closed;
  }

  consumed(position: number): Promise<void> {
    this.dropBefore(position);
    return Promise.resolve();
  }

  async close(): Promise<void> {
    this.closed = true;
    const pending = this.waiting.splice(0);
    for (const w of pending) w.reject(new Error('ingestion queue closed'));
    // An fdatasync in flight finishes on its own descriptor, and a segment being prepared is left whole.
    while (this.syncing > 0) await new Promise((r) => setTimeout(r, 1));
    await this.next?.catch(() => undefined);
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  /** Deletes each segment whose records all end at or before `position` (the next segment starts there). */
  private dropBefore(position: number): void {
    while (this.segments.length > 1 && this.segments[1]! <= position) {
      unlinkSync(this.file(this.segments.shift()!));
    }
  }

  private file(start: number): string {
    return join(this.dir, `${String(start).padStart(20, '0')}.log`);
  }
}

/** Just past the last non-zero byte at or after `from` (`from` when the rest is zeros). */
function endOfData(bytes: Buffer, from: number): number {
  const chunk = 64 * 1024;
  let end = bytes.length;
  while (end > from) {
    const start = Math.max(from, end - chunk);
    if (!bytes.subarray(start, end).equals(ZEROS.subarray(0, end - start))) {
      for (let i = end - 1; i >= start; i--) if (bytes[i] !== 0) return i + 1;
    }
    end = start;
  }
  return from;
}

function zeroFill(path: string, size: number): void {
  const fd = openSync(path, 'w');
  try {
    for (let off = 0; off < size; off += ZEROS.length) writeSync(fd, ZEROS, 0, Math.min(ZEROS.length, size - off), off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A new or removed directory entry is durable once the directory itself is fsynced (POSIX). */
function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
