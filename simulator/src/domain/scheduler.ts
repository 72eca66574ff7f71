import type { Clock } from '@aerie/contracts';

/** Work one vehicle does on each tick, given the clock's time (ms). */
export type TickTask = (nowMs: number) => void;

export interface SchedulerStats {
  /** Whole periods run (every slot once). */
  ticks: number;
  /** Tasks run over all ticks. */
  runs: number;
  tasks: number;
}

export interface SchedulerOptions {
  /** Each task runs once per this many ms of clock time (100). */
  tickMs?: number;
  /**
   * Tasks are spread round-robin over this many slots, one slot run every tickMs / slots (1).
   * A thousand vehicles flushing in one burst overflow a receiver's socket buffer and stall the
   * loop for the whole burst; ten slots send a tenth every 10 ms. Keep it 1 under a fast
   * warp, where tickMs / slots would fall under the 1 ms timer floor.
   */
  slots?: number;
}

/**
 * One clock interval for a whole fleet instead of several per vehicle. A thousand vehicles with
 * three intervals each cost Node three thousand timer callbacks per period, each with its own
 * trip through the event loop; one tick walking a set costs one. Each task decides from
 * `nowMs` what falls due (physics step, streams, heartbeat), so rates below the tick rate still
 * average out right. The interval only exists while there are tasks, so a stopped fleet leaves
 * no timer behind.
 */
export class SimScheduler {
  readonly tickMs: number;
  // Sets: a task removed during a tick is not run later in it, and removal is O(1).
  private readonly slots: Set<TickTask>[];
  private readonly slotOf = new Map<TickTask, Set<TickTask>>();
  private handle: unknown = null;
  private nextDueMs = 0;
  private fired = 0;
  private added = 0;
  private runs = 0;

  constructor(private readonly clock: Clock, opts: SchedulerOptions = {}) {
    this.tickMs = opts.tickMs ?? 100;
    const slots = opts.slots ?? 1;
    if (!(this.tickMs > 0)) throw new RangeError(`tickMs must be positive, got ${this.tickMs}`);
    if (!(Number.isInteger(slots) && slots >= 1 && slots <= this.tickMs)) throw new RangeError(`slots must be an integer 1–tickMs, got ${slots}`);
    this.slots = Array.from({ length: slots }, () => new Set<TickTask>());
  }

  /** Adds a task run once per tickMs, from its slot's next turn on; returns its removal. */
  add(task: TickTask): () => void {
    const slot = this.slots[this.added++ % this.slots.length]!;
    slot.add(task);
    this.slotOf.set(task, slot);
    if (this.handle === null) {
      this.nextDueMs = this.clock.now() + this.periodMs;
      this.arm();
    }
    return () => this.remove(task);
  }

  get stats(): SchedulerStats {
    return { ticks: Math.floor(this.fired / this.slots.length), runs: this.runs, tasks: this.slotOf.size };
  }

  private remove(task: TickTask): void {
    const slot = this.slotOf.get(task);
    if (!slot) return;
    slot.delete(task);
    this.slotOf.delete(task);
    if (this.slotOf.size === 0 && this.handle !== null) {
      this.clock.clearTimeout(this.handle);
      this.handle = null;
    }
  }

  private get periodMs(): number {
    return this.tickMs / this.slots.length;
  }

  /**
   * A timeout aimed at the next due time rather than setInterval: Node reschedules an interval
   * from when its callback ran, in whole milliseconds, so a 10 ms interval drifts to ~10.7 ms
   * and a fleet would run 7 % slow. Aiming at absolute due times keeps the average exact.
   */
  private arm(): void {
    const handle = this.clock.setTimeout(() => {
      const now = this.clock.now();
      this.nextDueMs += this.periodMs;
      // After a long stall, skip the missed slots rather than firing them back to back.
      if (this.nextDueMs < now - this.tickMs) this.nextDueMs = now + this.periodMs;
      this.tick(now);
      // Not re-armed when the last task left during the tick (or a new timer already runs).
      if (this.handle === handle) this.arm();
    }, Math.max(0, this.nextDueMs - this.clock.now()));
    this.handle = handle;
  }

  private tick(now: number): void {
    const slot = this.slots[this.fired % this.slots.length]!;
    this.fired += 1;
    for (const task of slot) {
      task(now);
      this.runs += 1;
    }
  }
}
