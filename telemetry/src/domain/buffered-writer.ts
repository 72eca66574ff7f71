import { systemClock } from '@aerie/contracts';
import type { Clock } from '@aerie/contracts';
import type { Logger, SpillStore, TelemetryWriter, WriteOutcome } from '../ports.js';
import { BACKOFF_DEFAULTS, retryDelayMs } from './backoff.js';
import type { BackoffOptions } from './backoff.js';
import { toLine } from './point.js';
import type { Point } from './point.js';

export interface BufferedWriterOptions {
  writer: TelemetryWriter;
  /** where sealed batches go while more than maxBufferedPoints wait in memory */
  spill: SpillStore;
  logger: Logger;
  clock?: Clock;
  random?: () => number;
  /** a batch is sealed at this many points (default 5000: InfluxDB's "optimal batch size") */
  batchSize?: number;
  /** or this long after its first point, ms (default 1000) */
  flushIntervalMs?: number;
  /** sealed points held in memory before batches go to the spill (default 50 000) */
  maxBufferedPoints?: number;
  /** concurrent requests (default 2: one in flight while the next is encoded) */
  maxInFlight?: number;
  backoff?: BackoffOptions;
}

export interface WriterStats {
  /** points handed to write() */
  accepted: number;
  /** points the database took */
  written: number;
  /** points the database refused with a 4xx other than 429: never retried (TEL_ERR_WRITE_REJECTED) */
  rejected: number;
  /** points lost because the spill was full (TEL_ERR_WRITE_DROPPED) */
  dropped: number;
  /** accepted points not yet written, rejected or dropped */
  pending: number;
  /** failed attempts that were tried again */
  retries: number;
  /** batches that went through the spill */
  spilled: number;
}

/** seq: index (in accepted order) of the batch's first point; -1 for a batch read back from the spill */
interface Batch { points: Point[]; spillId: number | null; seq: number }

/**
 * Batching, retries and the spill around any TelemetryWriter. The invariant the tests keep:
 * accepted = written + rejected + dropped + pending. Points carry the drone's timestamps, so a
 * batch sent twice (a timeout after the server wrote it) overwrites itself instead of duplicating.
 */
export class BufferedWriter {
  readonly #o: Required<Omit<BufferedWriterOptions, 'writer' | 'spill' | 'logger' | 'clock' | 'random' | 'backoff'>>;
  readonly #writer: TelemetryWriter;
  readonly #spill: SpillStore;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #backoff: BackoffOptions;
  #current: Point[] = [];
  #timer: unknown = undefined;
  readonly #queue: Batch[] = [];
  #queued = 0;
  #inFlight = 0;
  #inFlightPoints = 0;
  #spillBusy = false;
  #failures = 0;
  #pausedUntil = 0;
  #retryTimer: unknown = undefined;
  #idle: (() => void)[] = [];
  /** seq of every batch held in memory (queued or in flight): what durableUpTo() waits for */
  readonly #held = new Set<number>();
  #closed = false;
  readonly #stats = { accepted: 0, written: 0, rejected: 0, dropped: 0, retries: 0, spilled: 0 };

  constructor(o: BufferedWriterOptions) {
    this.#writer = o.writer;
    this.#spill = o.spill;
    this.#log = o.logger;
    this.#clock = o.clock ?? systemClock;
    this.#random = o.random ?? Math.random;
    this.#backoff = o.backoff ?? BACKOFF_DEFAULTS;
    this.#o = {
      batchSize: o.batchSize ?? 5000,
      flushIntervalMs: o.flushIntervalMs ?? 1000,
      maxBufferedPoints: o.maxBufferedPoints ?? 50_000,
      maxInFlight: o.maxInFlight ?? 2,
    };
    // Batches parked by an earlier run go out first.
    if (this.#spill.size() > 0) this.#kick();
  }

  /** Takes points; never blocks and never throws. */
  write(points: readonly Point[]): void {
    if (this.#closed) {
      this.#stats.accepted += points.length;
      this.#park(points);
      return;
    }
    for (const p of points) {
      this.#current.push(p);
      this.#stats.accepted++;
      if (this.#current.length >= this.#o.batchSize) this.#seal();
    }
    if (this.#current.length > 0 && this.#timer === undefined) {
      this.#timer = this.#clock.setTimeout(() => {
        this.#timer = undefined;
        this.#seal();
      }, this.#o.flushIntervalMs);
    }
  }

  stats(): WriterStats {
    const pending = this.#current.length + this.#queued + this.#inFlightPoints + this.#spill.size();
    return { ...this.#stats, pending };
  }

  /**
   * Every accepted point before this index is written, refused, dropped, or parked in the spill
   * (which survives a restart when it is the file spill). The write-ahead log (adapters/wal.ts)
   * deletes a segment once this passes the points handed over before the segment was sealed.
   */
  durableUpTo(): number {
    let low = this.#stats.accepted - this.#current.length;
    for (const seq of this.#held) if (seq < low) low = seq;
    return low;
  }

  /** Seals the open batch and resolves once nothing is pending, or after timeoutMs (default: no limit). */
  async flush(timeoutMs?: number): Promise<boolean> {
    this.#seal();
    if (this.#isIdle()) return true;
    return new Promise<boolean>((resolve) => {
      let timer: unknown;
      const done = (): void => {
        if (timer !== undefined) this.#clock.clearTimeout(timer);
        resolve(true);
      };
      this.#idle.push(done);
      if (timeoutMs !== undefined) {
        timer = this.#clock.setTimeout(() => {
          this.#idle = this.#idle.filter((f) => f !== done);
          resolve(false);
        }, timeoutMs);
      }
    });
  }

  /**
   * Writes what it can within timeoutMs (default 5000), then parks the rest in the spill, so a
   * restart replays it. Idempotent.
   */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.#closed) return;
    await this.flush(timeoutMs);
    this.#closed = true;
    if (this.#retryTimer !== undefined) this.#clock.clearTimeout(this.#retryTimer);
    while (this.#inFlight > 0) await new Promise((r) => setImmediate(r));
    for (const b of this.#queue.splice(0)) {
      this.#queued -= b.points.length;
      this.#park(b.points);
      this.#held.delete(b.seq);
    }
    await this.#writer.close();
    this.#spill.close();
  }

  #isIdle(): boolean {
    return this.#current.length === 0 && this.#queued === 0 && this.#inFlight === 0 && this.#spill.size() === 0;
  }

  #seal(): void {
    if (this.#timer !== undefined) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#current.length === 0) return;
    const points = this.#current;
    this.#current = [];
    const seq = this.#stats.accepted - points.length;
    // Memory first while it has room; past the bound, batches wait on disk (and survive a crash).
    if (this.#queued + points.length <= this.#o.maxBufferedPoints) {
      this.#queue.push({ points, spillId: null, seq });
      this.#queued += points.length;
      this.#held.add(seq);
    } else {
      this.#park(points);
    }
    this.#kick();
  }

  #park(points: readonly Point[]): void {
    if (this.#spill.push(points)) {
      this.#stats.spilled++;
      return;
    }
    this.#stats.dropped += points.length;
    this.#log.error(`telemetry writer spill full code=TEL_ERR_WRITE_DROPPED points=${points.length} writer=${this.#writer.kind}`);
  }

  #next(): Batch | null {
    const b = this.#queue.shift();
    if (b !== undefined) {
      this.#queued -= b.points.length;
      return b;
    }
    if (this.#spillBusy) return null;
    const s = this.#spill.peek();
    if (s === null) return null;
    this.#spillBusy = true;
    return { points: s.points, spillId: s.id, seq: -1 };
  }

  #kick(): void {
    if (this.#closed) return;
    const now = this.#clock.now();
    if (now < this.#pausedUntil) {
      this.#retryTimer ??= this.#clock.setTimeout(() => {
        this.#retryTimer = undefined;
        this.#kick();
      }, this.#pausedUntil - now);
      return;
    }
    while (this.#inFlight < this.#o.maxInFlight) {
      const b = this.#next();
      if (b === null) break;
      this.#send(b);
    }
    if (this.#isIdle()) for (const f of this.#idle.splice(0)) f();
  }

  #send(b: Batch): void {
    this.#inFlight++;
    if (b.spillId === null) this.#inFlightPoints += b.points.length;
    this.#writer.write(b.points).then(
      (outcome) => this.#settle(b, outcome),
      (err: unknown) => this.#settle(b, { ok: false, retryable: true, status: null, retryAfterMs: null, detail: String(err) }),
    );
  }

  #settle(b: Batch, outcome: WriteOutcome): void {
    this.#inFlight--;
    if (b.spillId === null) this.#inFlightPoints -= b.points.length;
    if (outcome.ok || !outcome.retryable) {
      if (outcome.ok) {
        this.#stats.written += b.points.length;
        this.#failures = 0;
      } else {
        this.#refused(b.points, outcome);
      }
      this.#done(b);
      this.#held.delete(b.seq);
    } else {
      this.#stats.retries++;
      const delay = retryDelayMs(this.#failures++, outcome.retryAfterMs, this.#random, this.#backoff);
      this.#pausedUntil = Math.max(this.#pausedUntil, this.#clock.now() + delay);
      if (this.#failures === 1) {
        this.#log.warn(`telemetry writer retrying writer=${this.#writer.kind} status=${outcome.status ?? '-'} detail=${JSON.stringify(outcome.detail)}`);
      }
      if (b.spillId === null) {
        // Back to the front; if memory is over its bound meanwhile, it waits on disk instead.
        if (this.#queued + b.points.length <= this.#o.maxBufferedPoints) {
          this.#queue.unshift(b);
          this.#queued += b.points.length;
        } else {
          this.#park(b.points);
          this.#held.delete(b.seq);
        }
      } else {
        this.#spillBusy = false;
      }
    }
    this.#kick();
  }

  #done(b: Batch): void {
    if (b.spillId !== null) {
      this.#spill.remove(b.spillId);
      this.#spillBusy = false;
    }
  }

  #refused(points: readonly Point[], outcome: Extract<WriteOutcome, { ok: false }>): void {
    // InfluxDB 1.x answers a batch with some bad lines "partial write: … dropped=N" and keeps the rest.
    const m = /dropped=(\d+)/.exec(outcome.detail);
    const dropped = m ? Math.min(points.length, Number(m[1])) : points.length;
    this.#stats.rejected += dropped;
    this.#stats.written += points.length - dropped;
    const quoted = /unable to parse '([^']*)'/.exec(outcome.detail)?.[1];
    const line = quoted ?? (points[0] ? toLine(points[0]) : '');
    this.#log.error(`telemetry writer rejected code=TEL_ERR_WRITE_REJECTED writer=${this.#writer.kind} status=${outcome.status ?? '-'} points=${dropped} detail=${JSON.stringify(outcome.detail)} line=${JSON.stringify(line)}`);
  }
}
