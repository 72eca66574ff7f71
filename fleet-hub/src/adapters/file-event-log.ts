import { mkdir, open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { validateMessage, type DeliveryTracking } from '@aerie/contracts';
import type { EventStream, StoredEvent } from '../ports.js';

/**
 * The embedded durable event log: one JSON line per event in `events.log` (offset = line number),
 * fsynced before `append` resolves; consumer offsets in `offsets.json`, replaced atomically
 * (write a temp file, fsync, rename). On open, a torn last line — a crash mid-append — is cut
 * off, so what was acknowledged survives a restart and what was not is gone.
 */
export class FileEventLog implements EventStream {
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly dir: string,
    private readonly file: FileHandle,
    private readonly events: DeliveryTracking[],
    private readonly committed: Map<string, number>,
  ) {}

  static async open(dir: string): Promise<FileEventLog> {
    await mkdir(dir, { recursive: true });
    const path = join(dir, 'events.log');
    const text = await readFile(path, 'utf8').catch(() => '');
    const events: DeliveryTracking[] = [];
    let goodBytes = 0;
    const lines = text.split('\n');
    // The element after the last newline is '' for a clean file, a torn write otherwise: dropped.
    for (const line of lines.slice(0, -1)) {
      const v = validateMessage('DeliveryTracking', safeParse(line));
      if (!v.ok) break;
      events.push(v.value);
      goodBytes += Buffer.byteLength(line) + 1;
    }
    const file = await open(path, 'a+');
    if ((await file.stat()).size !== goodBytes) await file.truncate(goodBytes);
    const raw = await readFile(join(dir, 'offsets.json'), 'utf8').catch(() => '{}');
    const committed = new Map(Object.entries(safeParse(raw) as Record<string, number>));
    return new FileEventLog(dir, file, events, committed);
  }

  append(event: DeliveryTracking): Promise<number> {
    return this.serial(async () => {
      await this.file.appendFile(`${JSON.stringify(event)}\n`);
      await this.file.sync();
      this.events.push(event);
      return this.events.length - 1;
    });
  }

  read(consumer: string, max: number): Promise<StoredEvent[]> {
    const from = (this.committed.get(consumer) ?? -1) + 1;
    return Promise.resolve(this.events.slice(from, from + max).map((event, i) => ({ offset: from + i, event })));
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

