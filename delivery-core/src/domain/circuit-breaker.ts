import type { Clock } from '@aerie/contracts';
import { isTransient, TransientError } from './saga-errors.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerPolicy {
  /** Consecutive transient failures that open the circuit. */
  failureThreshold: number;
  /** How long an open circuit fails fast before it lets one trial call through (ms). */
  openMs: number;
}

/** Thrown without calling the dependency while the circuit is open; transient, with the time worth retrying at. */
export class CircuitOpenError extends TransientError {
  constructor(readonly dependency: string, retryAt: number) {
    super('DLV_SAGA_CIRCUIT_OPEN', `${dependency}: circuit open until ${new Date(retryAt).toISOString()}`, retryAt);
  }
}

/**
 * A circuit breaker per dependency (Nygard, "Release It!", ch. 5; Fowler, "CircuitBreaker"):
 * closed counts consecutive transient failures; at the threshold it opens and fails fast for
 * `openMs`; then half-open lets exactly one trial call through — success closes it, failure opens
 * it again. Only transient failures count: a permanent answer (the hub rejecting a mission)
 * proves the dependency is up. Time comes from the Clock, so tests drive it.
 */
export class CircuitBreaker {
  private state: BreakerState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private trialInFlight = false;
  readonly stats = { opened: 0, rejected: 0 };

  constructor(readonly dependency: string, private readonly policy: Readonly<BreakerPolicy>, private readonly clock: Clock) {
    if (!(policy.failureThreshold >= 1 && policy.openMs >= 0)) throw new RangeError('breaker needs failureThreshold ≥ 1 and openMs ≥ 0');
  }

  /** The state now: an open circuit whose delay has passed reads as half-open. */
  current(): BreakerState {
    if (this.state === 'open' && this.clock.now() >= this.openedAt + this.policy.openMs) return 'half-open';
    return this.state;
  }

  async call<T>(fn: () => Promise<T>): Promise<T> {
    const state = this.current();
    if (state === 'open' || (state === 'half-open' && this.trialInFlight)) {
      this.stats.rejected += 1;
      throw new CircuitOpenError(this.dependency, state === 'open' ? this.openedAt + this.policy.openMs : this.clock.now() + this.policy.openMs);
    }
    const trial = state === 'half-open';
    if (trial) {
      this.state = 'half-open';
      this.trialInFlight = true;
    }
    try {
      const value = await fn();
      this.state = 'closed';
      this.failures = 0;
      return value;
    } catch (err) {
      if (isTransient(err)) this.failed(trial);
      else if (trial) this.state = 'closed';
      throw err;
    } finally {
      if (trial) this.trialInFlight = false;
    }
  }

  private failed(trial: boolean): void {
    this.failures += 1;
    if (trial || this.failures >= this.policy.failureThreshold) {
      this.state = 'open';
      this.openedAt = this.clock.now();
      this.failures = 0;
      this.stats.opened += 1;
    }
  }
}

/** `target` with every method called through `breaker`: the same interface, guarded (STYLE.md: wrappers return the same interface). */
export function withBreaker<T extends object>(target: T, breaker: CircuitBreaker): T {
  return wrapMethods(target, (call) => breaker.call(call));
}

/** Builds a proxy of `target` whose methods run through `around`; non-function properties pass through. */
export function wrapMethods<T extends object>(target: T, around: (call: () => Promise<unknown>) => Promise<unknown>): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const v: unknown = Reflect.get(obj, prop, receiver);
      if (typeof v !== 'function') return v;
      // Through a promise, so a method that throws synchronously is a rejection like any other.
      return (...args: unknown[]) => around(() => Promise.resolve().then(() => (v as (...a: unknown[]) => unknown).apply(obj, args)));
    },
  });
}
