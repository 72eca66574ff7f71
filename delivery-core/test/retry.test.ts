import { describe, expect, it } from 'vitest';
import { backoffMs, retry, withRetry } from '../src/domain/retry.js';
import { CircuitBreaker, CircuitOpenError, withBreaker } from '../src/domain/circuit-breaker.js';
import { PermanentError, TransientError } from '../src/domain/saga-errors.js';
import { ManualClock } from './workflow-helpers.js';

describe('retry with exponential backoff and full jitter', () => {
  it('backoff doubles up to the cap, scaled by the jitter draw', () => {
    const p = { baseMs: 100, capMs: 1000 };
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffMs(p, a, () => 0.999999))).toEqual([99, 199, 399, 799, 999, 999]);
    expect(backoffMs(p, 3, () => 0.5)).toBe(400);
    expect(backoffMs(p, 3, () => 0)).toBe(0);
  });

  it('a transient failure is retried after the backoff, then succeeds', async () => {
    const clock = new ManualClock();
    const start = clock.now();
    let calls = 0;
    const sleptAt: number[] = [];
    const p = retry(() => {
      calls += 1;
      sleptAt.push(clock.now() - start);
      return calls < 3 ? Promise.reject(new TransientError('DOWN', 'busy')) : Promise.resolve('done');
    }, { attempts: 5, baseMs: 100, capMs: 10_000 }, clock, () => 0.5);
    await clock.advance(10_000);
    await expect(p).resolves.toBe('done');
    expect(sleptAt).toEqual([0, 50, 150]);
  });

  it('gives up after `attempts` calls with the last error; a permanent error is not retried', async () => {
    const clock = new ManualClock();
    let calls = 0;
    const failing = retry(() => { calls += 1; return Promise.reject(new TransientError('DOWN', `try ${calls}`)); }, { attempts: 3, baseMs: 10, capMs: 100 }, clock, () => 1);
    const seen = failing.catch((e: unknown) => e);
    await clock.advance(1000);
    expect(await seen).toMatchObject({ code: 'DOWN', message: 'try 3' });
    calls = 0;
    await expect(retry(() => { calls += 1; return Promise.reject(new PermanentError('NO', 'no')); }, { attempts: 5, baseMs: 10, capMs: 100 }, clock)).rejects.toMatchObject({ code: 'NO' });
    expect(calls).toBe(1);
  });

  it('withRetry outside withBreaker: same interface; an open circuit ends the retries at once', async () => {
    const clock = new ManualClock();
    const breaker = new CircuitBreaker('hub', { failureThreshold: 2, openMs: 60_000 }, clock);
    let calls = 0;
    const hub = { dispatch: () => { calls += 1; return Promise.reject(new TransientError('DOWN', 'down')); } };
    const wrapped = withRetry(withBreaker(hub, breaker), { attempts: 10, baseMs: 10, capMs: 10 }, clock, () => 1);
    const out = wrapped.dispatch().catch((e: unknown) => e);
    await clock.advance(1000);
    expect(await out).toBeInstanceOf(CircuitOpenError);
    expect(calls).toBe(2);
  });
});
