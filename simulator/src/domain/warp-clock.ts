import { systemClock, type Clock } from '@aerie/contracts';

/** The system clock's timers with a monotonic now(), so virtual time never jumps with NTP. */
const monotonicClock: Clock = { ...systemClock, now: () => performance.timeOrigin + performance.now() };

export interface WarpClockOptions {
  /** Virtual seconds per real second; 1 runs in real time. */
  speedup: number;
  /** Virtual epoch (ms) at construction; the real clock's now() by default. */
  startMs?: number;
  /** The real clock being warped; the system timers with a monotonic now() by default. */
  real?: Clock;
}

/**
 * Virtual time running `speedup` times faster than the real clock. Delays shrink by the same
 * factor, floored at 1 ms of real time (Node's timer resolution), so at high speedups timers
 * fire late in virtual time; callers that integrate should read now() rather than count ticks.
 */
export class WarpClock implements Clock {
  readonly speedup: number;
  private readonly real: Clock;
  private readonly realStartMs: number;
  private readonly startMs: number;

  constructor(opts: WarpClockOptions) {
    if (!(opts.speedup > 0) || !Number.isFinite(opts.speedup)) throw new RangeError(`speedup must be a positive number, got ${opts.speedup}`);
    this.speedup = opts.speedup;
    this.real = opts.real ?? monotonicClock;
    this.realStartMs = this.real.now();
    this.startMs = opts.startMs ?? this.realStartMs;
  }

  /** Whole milliseconds, as the Clock contract promises (message timestamps are integers). */
  now(): number {
    return Math.floor(this.startMs + (this.real.now() - this.realStartMs) * this.speedup);
  }

  setTimeout(fn: () => void, ms: number): unknown {
    return this.real.setTimeout(fn, this.realDelay(ms));
  }

  clearTimeout(handle: unknown): void {
    this.real.clearTimeout(handle);
  }

  setInterval(fn: () => void, ms: number): unknown {
    return this.real.setInterval(fn, this.realDelay(ms));
  }

  clearInterval(handle: unknown): void {
    this.real.clearInterval(handle);
  }

  private realDelay(virtualMs: number): number {
    return Math.max(1, virtualMs / this.speedup);
  }
}

interface ManualTimer {
  readonly id: number;
  dueMs: number;
  readonly periodMs: number | null;
  readonly fn: () => void;
}

/** A clock that only moves when told to: timers fire inside advance(), in due order. */
export class ManualClock implements Clock {
  private nowMs: number;
  private nextId = 1;
  private readonly timers = new Map<number, ManualTimer>();

  constructor(startMs = 0) {
    this.nowMs = startMs;
  }

  now(): number {
    return this.nowMs;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    return this.add(fn, ms, null);
  }

  clearTimeout(handle: unknown): void {
    if (typeof handle === 'number') this.timers.delete(handle);
  }

  setInterval(fn: () => void, ms: number): unknown {
    return this.add(fn, ms, Math.max(1, ms));
  }

  clearInterval(handle: unknown): void {
    this.clearTimeout(handle);
  }

  /** Timers not yet fired or cleared; 0 after a clean shutdown. */
  get pendingTimers(): number {
    return this.timers.size;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way in due order
   * (ties in creation order), with now() set to each timer's due time while it runs.
   */
  advance(ms: number): void {
    const target = this.nowMs + Math.max(0, ms);
    for (;;) {
      const next = this.nextDue(target);
      if (!next) break;
      this.nowMs = next.dueMs;
      if (next.periodMs === null) this.timers.delete(next.id);
      else next.dueMs += next.periodMs;
      next.fn();
    }
    this.nowMs = target;
  }

  /** Advances in `stepMs` steps until `done()` holds; false if `maxMs` passes first. */
  advanceUntil(done: () => boolean, maxMs: number, stepMs = 100): boolean {
    const limit = this.nowMs + maxMs;
    while (!done()) {
      if (this.nowMs >= limit) return false;
      this.advance(Math.min(stepMs, limit - this.nowMs));
    }
    return true;
  }

  private add(fn: () => void, ms: number, periodMs: number | null): number {
    const id = this.nextId++;
    this.timers.set(id, { id, dueMs: this.nowMs + Math.max(0, ms), periodMs, fn });
    return id;
  }

  private nextDue(limitMs: number): ManualTimer | null {
    let best: ManualTimer | null = null;
    for (const t of this.timers.values()) {
      if (t.dueMs > limitMs) continue;
      if (!best || t.dueMs < best.dueMs || (t.dueMs === best.dueMs && t.id < best.id)) best = t;
    }
    return best;
  }
}
