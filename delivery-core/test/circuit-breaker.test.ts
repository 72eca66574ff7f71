import { describe, expect, it } from 'vitest';
import { CircuitBreaker, CircuitOpenError, withBreaker } from '../src/domain/circuit-breaker.js';
import { PermanentError, TransientError } from '../src/domain/saga-errors.js';
import { ManualClock } from './workflow-helpers.js';

const down = () => Promise.reject(new TransientError('DOWN', 'connection refused'));
const up = () => Promise.resolve('ok');

describe('CircuitBreaker', () => {
  it('opens after N consecutive transient failures, fails fast while open, half-opens after its delay', async () => {
    const clock = new ManualClock();
    const b = new CircuitBreaker('hub', { failureThreshold: 3, openMs: 5000 }, clock);
    let calls = 0;
    const counted = () => { calls += 1; return down(); };
    for (let k = 0; k < 3; k++) await expect(b.call(counted)).rejects.toMatchObject({ code: 'DOWN' });
    expect(b.current()).toBe('open');
    const fast = await b.call(counted).catch((e: unknown) => e);
    expect(fast).toBeInstanceOf(CircuitOpenError);
    expect((fast as CircuitOpenError).retryAt).toBe(clock.now() + 5000);
    expect(calls).toBe(3);
    await clock.advance(4999);
    expect(b.current()).toBe('open');
    await clock.advance(1);
    expect(b.current()).toBe('half-open');
    await expect(b.call(up)).resolves.toBe('ok');
    expect(b.current()).toBe('closed');
    expect(b.stats).toEqual({ opened: 1, rejected: 1 });
  });

  it('a failed trial in half-open opens it again for a full delay; only one trial at a time', async () => {
    const clock = new ManualClock();
    const b = new CircuitBreaker('hub', { failureThreshold: 1, openMs: 1000 }, clock);
    await expect(b.call(down)).rejects.toThrow();
    await clock.advance(1000);
    let release!: () => void;
    const trial = b.call(() => new Promise<never>((_, reject) => { release = () => reject(new TransientError('DOWN', 'still')); }));
    await expect(b.call(up)).rejects.toBeInstanceOf(CircuitOpenError);
    release();
    await expect(trial).rejects.toMatchObject({ code: 'DOWN' });
    expect(b.current()).toBe('open');
    await clock.advance(999);
    expect(b.current()).toBe('open');
    await clock.advance(1);
    expect(b.current()).toBe('half-open');
  });

  it('permanent failures do not count (the dependency answered) and a success resets the count', async () => {
    const clock = new ManualClock();
    const b = new CircuitBreaker('hub', { failureThreshold: 2, openMs: 1000 }, clock);
    await expect(b.call(down)).rejects.toThrow();
    await expect(b.call(up)).resolves.toBe('ok');
    await expect(b.call(down)).rejects.toThrow();
    for (let k = 0; k < 5; k++) await expect(b.call(() => Promise.reject(new PermanentError('REJECTED', 'no')))).rejects.toMatchObject({ code: 'REJECTED' });
    expect(b.current()).toBe('closed');
    await expect(b.call(down)).rejects.toThrow();
    expect(b.current()).toBe('open');
  });

  it('withBreaker returns the same interface, every method guarded', async () => {
    const clock = new ManualClock();
    const b = new CircuitBreaker('hub', { failureThreshold: 1, openMs: 1000 }, clock);
    let n = 0;
    const hub = { name: 'hub', send: (x: number) => { n += 1; return x > 0 ? Promise.resolve(x * 2) : Promise.reject(new TransientError('DOWN', 'down')); } };
    const guarded = withBreaker(hub, b);
    expect(guarded.name).toBe('hub');
    await expect(guarded.send(2)).resolves.toBe(4);
    await expect(guarded.send(0)).rejects.toThrow();
    await expect(guarded.send(2)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(n).toBe(2);
  });
});
