import { closeSync, mkdirSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface TlogRecorderOptions {
  dir: string;
  maxFileMb: number;
  maxFiles: number;
  /** Wall clock (ms); tlog timestamps are µs since the Unix epoch. */
  now?: () => number;
}

/**
 * Records the raw MAVLink link as .tlog (8-byte big-endian µs timestamp + packet, the format of
 * MAVProxy and Mission Planner, readable by `aerie-agent replay`), rotating by size and keeping
 * the newest `maxFiles`. Writes are synchronous and unbuffered so a power cut loses at most the
 * record being written; the reader resynchronises past a torn last record.
 */
export class TlogRecorder {
  private fd: number | null = null;
  private size = 0;
  private index = 0;
  readonly stats = { records: 0, files: 0, errors: 0 };

  constructor(private readonly opts: TlogRecorderOptions) {
    mkdirSync(opts.dir, { recursive: true });
  }

  record(raw: Buffer): void {
    try {
      if (this.fd === null || this.size >= this.opts.maxFileMb * 1024 * 1024) this.rotate();
      const rec = Buffer.allocUnsafe(8 + raw.length);
      rec.writeBigUInt64BE(BigInt(Math.round((this.opts.now ?? Date.now)() * 1000)), 0);
      raw.copy(rec, 8);
      this.size += writeSync(this.fd!, rec);
      this.stats.records += 1;
    } catch {
      // A full or read-only disk must not stop the agent flying; the counter tells the operator.
      this.stats.errors += 1;
    }
  }

  private rotate(): void {
    if (this.fd !== null) closeSync(this.fd);
    const stamp = new Date((this.opts.now ?? Date.now)()).toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
    this.fd = openSync(join(this.opts.dir, `aerie-${stamp}-${String(this.index++).padStart(4, '0')}.tlog`), 'a');
    this.size = 0;
    this.stats.files += 1;
    const files = readdirSync(this.opts.dir).filter((f) => f.startsWith('aerie-') && f.endsWith('.tlog')).sort();
    for (const f of files.slice(0, Math.max(0, files.length - this.opts.maxFiles))) rmSync(join(this.opts.dir, f), { force: true });
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
