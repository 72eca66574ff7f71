import {
  closeSync, existsSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, writeFileSync, writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Spool, SpoolRecord, SpoolStats, UplinkKind } from '../ports.js';
import { RECORD_OVERHEAD, toDrop, type Indexed, type SpoolLimits } from '../domain/spool-policy.js';

const KINDS: readonly UplinkKind[] = ['status', 'event', 'result'];
interface Entry extends Indexed {
  offset: number;
}

/**
 * Store-and-forward on disk: a write-ahead log `spool-<gen>.log` of length-prefixed, CRC-checked
 * records, and `cursor.json` naming the live generation and the offset of the first record not yet
 * delivered (replaced by rename, so it is never torn).
 *
 * fsync policy: every append is written to the file at once (a kill -9 loses nothing appended);
 * events and command results are fsynced on append; statuses are fsynced at most once per
 * `statusSyncMs` (group commit), so a power cut loses at most that much status, never an event.
 * Dropping for size or age rewrites the survivors into the next generation (fsynced) before the
 * cursor moves to it; a crash in between leaves the previous generation in force.
 */
export class DiskSpool implements Spool {
  readonly stats: SpoolStats = { appended: 0, forwarded: 0, dropped: { status: 0, event: 0, result: 0 } };
  private index: Entry[] = [];
  private nextId = 1;
  private total = 0;
  private fd: number;
  private gen: number;
  private end: number;
  private lastSync = 0;
  private dirtySince: number | null = null;

  constructor(private readonly dir: string, private readonly limits: SpoolLimits & { statusSyncMs?: number }) {
    mkdirSync(dir, { recursive: true });
    const cursor = this.readCursor();
    this.gen = cursor.gen;
    for (const f of readdirSync(dir)) if (/^spool-\d+\.log$/.test(f) && f !== this.file(this.gen)) rmSync(join(dir, f), { force: true });
    this.fd = openSync(join(dir, this.file(this.gen)), existsSync(join(dir, this.file(this.gen))) ? 'r+' : 'w+');
    this.end = this.recover(cursor.offset);
  }

  get length(): number {
    return this.index.length;
  }

  get bytes(): number {
    return this.total;
  }

  append(kind: UplinkKind, body: Buffer, at: number): void {
    const rec = encode(kind, body, at);
    writeSync(this.fd, rec, 0, rec.length, this.end);
    this.index.push({ id: this.nextId++, kind, at, size: rec.length, offset: this.end });
    this.end += rec.length;
    this.total += rec.length;
    this.stats.appended += 1;
    if (kind !== 'status' || at - this.lastSync >= (this.limits.statusSyncMs ?? 1000)) this.sync(at);
    else this.dirtySince ??= at;
    if (this.total > this.limits.maxBytes) this.compact(at);
  }

  peek(max: number): SpoolRecord[] {
    return this.index.slice(0, max).map((e) => {
      const buf = Buffer.alloc(e.size);
      readSync(this.fd, buf, 0, e.size, e.offset);
      return { id: e.id, kind: e.kind, at: e.at, body: buf.subarray(RECORD_OVERHEAD) };
    });
  }

  ack(id: number): void {
    let n = 0;
    while (n < this.index.length && this.index[n]!.id <= id) n++;
    if (n === 0) return;
    for (const e of this.index.splice(0, n)) this.total -= e.size;
    this.stats.forwarded += n;
    if (this.index.length === 0) {
      // Everything delivered: start the file over rather than let it grow for months.
      ftruncateSync(this.fd, 0);
      this.end = 0;
      this.writeCursor(this.gen, 0);
    } else {
      this.writeCursor(this.gen, this.index[0]!.offset);
    }
  }

  expire(now: number): void {
    if (this.dirtySince !== null && now - this.lastSync >= (this.limits.statusSyncMs ?? 1000)) this.sync(now);
    if (toDrop(this.index, this.total, this.limits, now).size > 0) this.compact(now);
  }

  close(): void {
    fsyncSync(this.fd);
    closeSync(this.fd);
  }

  private sync(now: number): void {
    fsyncSync(this.fd);
    this.lastSync = now;
    this.dirtySince = null;
  }

  private compact(now: number): void {
    const drop = toDrop(this.index, this.total, this.limits, now);
    if (drop.size === 0) return;
    const keep = this.index.filter((e) => !drop.has(e.id));
    for (const e of this.index) if (drop.has(e.id)) this.stats.dropped[e.kind] += 1;
    const gen = this.gen + 1;
    const fd = openSync(join(this.dir, this.file(gen)), 'w+');
    let offset = 0;
    const next: Entry[] = [];
    for (const e of keep) {
      const buf = Buffer.alloc(e.size);
      readSync(this.fd, buf, 0, e.size, e.offset);
      writeSync(fd, buf, 0, buf.length, offset);
      next.push({ ...e, offset });
      offset += e.size;
    }
    fsyncSync(fd);
    this.writeCursor(gen, 0);
    closeSync(this.fd);
    rmSync(join(this.dir, this.file(this.gen)), { force: true });
    this.fd = fd;
    this.gen = gen;
    this.index = next;
    this.end = offset;
    this.total = offset;
    this.lastSync = now;
    this.dirtySince = null;
  }

  /** Rebuilds the index from the cursor on; a torn or corrupt tail (power cut mid-write) is cut off. */
  private recover(from: number): number {
    const data = readFileSync(join(this.dir, this.file(this.gen)));
    let offset = from <= data.length ? from : 0;
    while (offset + RECORD_OVERHEAD <= data.length) {
      const len = data.readUInt32LE(offset);
      const kind = KINDS[data[offset + 4] ?? 255];
      if (!kind || offset + RECORD_OVERHEAD + len > data.length) break;
      const at = data.readDoubleLE(offset + 5);
      const body = data.subarray(offset + RECORD_OVERHEAD, offset + RECORD_OVERHEAD + len);
      if (crc32(body, crc32(data.subarray(offset + 4, offset + 13))) !== data.readUInt32LE(offset + 13)) break;
      this.index.push({ id: this.nextId++, kind, at, size: RECORD_OVERHEAD + len, offset });
      this.total += RECORD_OVERHEAD + len;
      offset += RECORD_OVERHEAD + len;
    }
    if (offset < data.length) ftruncateSync(this.fd, offset);
    return offset;
  }

  private file(gen: number): string {
    return `spool-${gen}.log`;
  }

  private readCursor(): { gen: number; offset: number } {
    try {
      const c = JSON.parse(readFileSync(join(this.dir, 'cursor.json'), 'utf8')) as { gen?: unknown; offset?: unknown };
      if (Number.isInteger(c.gen) && Number.isInteger(c.offset)) return { gen: c.gen as number, offset: c.offset as number };
    } catch {
      // No cursor yet (first start) or an unreadable one: start from generation 0.
    }
    return { gen: 0, offset: 0 };
  }

  private writeCursor(gen: number, offset: number): void {
    const tmp = join(this.dir, 'cursor.json.tmp');
    writeFileSync(tmp, JSON.stringify({ gen, offset }));
    const fd = openSync(tmp, 'r');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, join(this.dir, 'cursor.json'));
  }
}

function encode(kind: UplinkKind, body: Buffer, at: number): Buffer {
  const rec = Buffer.alloc(RECORD_OVERHEAD + body.length);
  rec.writeUInt32LE(body.length, 0);
  rec.writeUInt8(KINDS.indexOf(kind), 4);
  rec.writeDoubleLE(at, 5);
  body.copy(rec, RECORD_OVERHEAD);
  rec.writeUInt32LE(crc32(body, crc32(rec.subarray(4, 13))), 13);
  return rec;
}
