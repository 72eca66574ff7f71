import { mkdir, open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { validateMessage, type DeliveryTracking } from '@aerie/contracts';
import type { EventStream, StoredEvent } from '../ports.js';

/** One byte position kept per this many events: the index costs ~0.03 bytes an event, not the event. */
export const EVENT_LOG_INDEX_STRIDE = 256;
/** Bytes read from the file per call while looking for the lines a read wants. */
const READ_CHUNK = 64 * 1024;

/**
 * The embedded durable event log: one JSON line per event in `events.log` (offset = line number),
 * fsynced before `append` resolves; consumer offsets in `offsets.json`, replaced atomically
 * (write a temp file, fsync, rename). On open, a torn last line — a crash mid-append — is cut
 * off, so what was acknowledged survives a restart and what was not is gone.
 *
 * Memory: the events stay on disk. Only the count, the file's good length and the byte position
 * of every EVENT_LOG_INDEX_STRIDE-th line are held; `read` seeks to the nearest position and
 * parses forward. Holding every event (as before 2026-12-03) grew a hub's heap by every tracking
 * event it ever published — ~8,000 an hour per hub in the soak at 60 deliveries a minute.
 */
export class FileEventLog implements EventStream {
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly dir: string,
    private readonly file: FileHandle,
    /** Events in the file. */
    private count: number,
    /** Bytes of whole, acknowledged lines: what a read may look at. */
    private size: number,
    /** marks[k] = byte position of line k * EVENT_LOG_INDEX_STRIDE. */
    private readonly marks: number[],
    private readonly committed: Map<string, number>,
  ) {}

  static async open(dir: string): Promise<FileEventLog> {
    await mkdir(dir, { recursive: true });
    const path = join(dir, 'events.log');
    const text = await readFile(path, 'utf8').catch(() => '');
    const marks: number[] = [];
    let count = 0;
    let goodBytes = 0;
    const lines = text.split('\n');
    // The element after the last newline is '' for a clean file, a torn write otherwise: dropped.
    for (const line of lines.slice(0, -1)) {
      const v = validateMessage('DeliveryTracking', safeParse(line));
      if (!v.ok) break;
      if (count % EVENT_LOG_INDEX_STRIDE === 0) marks.push(goodBytes);
      count += 1;
      goodBytes += Buffer.byteLength(line) + 1;
    }
    const file = await open(path, 'a+');
    if ((await file.stat()).size !== goodBytes) await file.truncate(goodBytes);
    const raw = await readFile(join(dir, 'offsets.json'), 'utf8').catch(() => '{}');
    const committed = new Map(Object.entries(safeParse(raw) as Record<string, number>));
    return new FileEventLog(dir, file, count, goodBytes, marks, committed);
  }

  /** Byte positions held in memory (the index), for the test that pins its bound. */
  get indexSize(): number {
    return this.marks.length;
  }

  append(event: DeliveryTracking): Promise<number> {
    return this.serial(async () => {
      const line = `${JSON.stringify(event)}\n`;
      try {
        await this.file.appendFile(line);
        await this.file.sync();
      } catch (err) {
        // Not acknowledged: cut a partial line off, so line numbers stay offsets.
        await this.file.truncate(this.size).catch(() => undefined);
        throw err;
      }
      if (this.count % EVENT_LOG_INDEX_STRIDE === 0) this.marks.push(this.size);
      this.size += Buffer.byteLength(line);
      return this.count++;
    });
  }

  async read(consumer: string, max: number): Promise<StoredEvent[]> {
    const from = (this.committed.get(consumer) ?? -1) + 1;
    const to = Math.min(this.count, from + max);
    if (from >= to) return [];
    const k = Math.floor(from / EVENT_LOG_INDEX_STRIDE);
    const end = this.size;
    let pos = this.marks[k]!;
    let line = k * EVENT_LOG_INDEX_STRIDE;
    let rest = Buffer.alloc(0);
    const out: StoredEvent[] = [];
    while (line < to && pos < end) {
      const buf = Buffer.alloc(Math.min(READ_CHUNK, end - pos));
      const { bytesRead } = await this.file.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      let data = Buffer.concat([rest, buf.subarray(0, bytesRead)]);
      let nl: number;
      while (line < to && (nl = data.indexOf(0x0a)) !== -1) {
        if (line >= from) out.push({ offset: line, event: JSON.parse(data.toString('utf8', 0, nl)) as DeliveryTracking });
        line += 1;
        data = data.subarray(nl + 1);
      }
      rest = data;
    }
    return out;
  }

  commit(consumer: string, offset: number): Promise<void> {
    return this.serial(async () => {
      this.committed.set(consumer, Math.max(offset, this.committed.get(consumer) ?? -1));
      const tmp = join(this.dir, 'offsets.json.tmp');
      const h = await open(tmp, 'w');
      await h.writeFile(JSON.stringify(Object.fromEntries(this.committed)));
      await h.sync();
      await h.close();
      await rename(tmp, join(this.dir, 'offsets.json'));
    });
  }

  async close(): Promise<void> {
    await this.chain.catch(() => undefined);
    await this.file.close();
  }

  /** One write at a time, in call order, so offsets match the file's line order. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }
}

function safeParse(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

