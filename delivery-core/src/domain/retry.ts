import type { Clock } from '@aerie/contracts';
import { CircuitOpenError, wrapMethods } from './circuit-breaker.js';
import { isTransient } from './saga-errors.js';

export interface BackoffPolicy {
  /** First delay before jitter (ms). */
  baseMs: number;
  /** No delay grows past this (ms). */
  capMs: number;
}

export interface RetryPolicy extends BackoffPolicy {
  /** Calls in all, the first included; 1 = no retry. */
  attempts: number;
}

/**
 * Exponential backoff with "full jitter" (Brooker, "Exponential Backoff and Jitter", AWS
 * Architecture Blog, 2015): uniform in [0, min(cap, base·2^attempt)], so clients that failed
 * together do not retry together. `random` is a dependency for repeatable tests.
 */
export function backoffMs(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * ceiling);
}

/** A Clock-driven sleep, so fake clocks drive retries in tests. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => {
    clock.setTimeout(resolve, ms);
  });
}

/**
 * Calls `fn` until it succeeds, fails permanently, or `policy.attempts` calls are spent,
 * sleeping a jittered backoff between calls. An open circuit is not retried here: the breaker
 * already says when it is worth trying, and the saga reschedules for that time.
 */
export async function retry<T>(fn: () => Promise<T>, policy: Readonly<RetryPolicy>, clock: Clock, random: () => number = Math.random): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isTransient(err) || err instanceof CircuitOpenError || attempt + 1 >= policy.attempts) throw err;
      await sleep(clock, backoffMs(policy, attempt, random));
    }
  }
}

/** `target` with every method retried under `policy`: the same interface (OpenTelemetry's retrying-transport pattern). */
export function withRetry<T extends object>(target: T, policy: Readonly<RetryPolicy>, clock: Clock, random: () => number = Math.random): T {
  return wrapMethods(target, (call) => retry(call, policy, clock, random));
}
