import type { Clock } from '@aerie/contracts';

/** A Clock that moves only when the test says; `advance` lets promise chains settle between timers. */
export class ManualClock implements Clock {
  private t: number;
  private next = 1;
  private readonly timers = new Map<number, { at: number; fn: () => void; every?: number }>();

  constructor(startMs = 1_700_000_000_000) {
    this.t = startMs;
  }
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.timers.delete(h as number);
  }
  setInterval(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.timers.set(id, { at: this.t + ms, fn, every: ms });
    return id;
  }
  clearInterval(h: unknown): void {
    this.timers.delete(h as number);
  }
  get pending(): number {
    return this.timers.size;
  }
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await settle();
    for (;;) {
      const due = [...this.timers.entries()].filter(([, x]) => x.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      const [id, x] = due;
      this.t = x.at;
      if (x.every === undefined) this.timers.delete(id);
      else x.at += x.every;
      x.fn();
      await settle();
    }
    this.t = end;
  }
}

/** Lets pending promise callbacks run (several turns: chains of awaits). */
export async function settle(): Promise<void> {
  for (let k = 0; k < 20; k++) await new Promise<void>((r) => setImmediate(r));
}

/**
 * Moves `clock` in small steps until `p` settles, letting real I/O (a PostgreSQL round trip)
 * finish between steps, so a retry's Clock-driven sleep is registered before time passes it.
 */
export async function driveUntil<T>(clock: ManualClock, p: Promise<T>, stepMs = 10, maxSteps = 2000): Promise<T> {
  let done = false;
  const watched = p.finally(() => {
    done = true;
  });
  watched.catch(() => undefined);
  for (let k = 0; k < maxSteps && !done; k++) {
    await new Promise((r) => setTimeout(r, 1));
    if (!done) await clock.advance(stepMs);
  }
  return watched;
}
