import { describe, expect, it } from 'vitest';
import { SimScheduler } from '../src/domain/scheduler.js';
import { ManualClock } from '../src/domain/warp-clock.js';

describe('SimScheduler (one timer for the fleet)', () => {
  it('runs every task once per tick, spread over slots, with one timer whatever the fleet size', () => {
    const clock = new ManualClock(0);
    const s = new SimScheduler(clock, { tickMs: 100, slots: 4 });
    const runs: [number, number][] = [];
    const removals = Array.from({ length: 8 }, (_, i) => s.add((now) => runs.push([i, now])));
    expect(clock.pendingTimers).toBe(1);
    clock.advance(100);
    // Slot k runs at 25·(k+1): tasks 0 and 4 share slot 0, and so on.
    expect(runs).toEqual([[0, 25], [4, 25], [1, 50], [5, 50], [2, 75], [6, 75], [3, 100], [7, 100]]);
    clock.advance(900);
    expect(s.stats).toMatchObject({ ticks: 10, runs: 80, tasks: 8 });
    for (const r of removals) r();
    expect(clock.pendingTimers).toBe(0);
  });

  it('a task removed during a tick does not run again, and the last one leaving stops the timer', () => {
    const clock = new ManualClock(0);
    const s = new SimScheduler(clock);
    let n = 0;
    const remove = s.add(() => {
      n += 1;
      remove();
    });
    clock.advance(1000);
    expect(n).toBe(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('fires on the grid of absolute due times from its start', () => {
    const clock = new ManualClock(0);
    const s = new SimScheduler(clock, { tickMs: 100 });
    const at: number[] = [];
    s.add((now) => at.push(now));
    clock.advance(1000);
    expect(at).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);
  });
});
