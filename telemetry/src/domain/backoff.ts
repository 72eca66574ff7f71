/** Retry timing for a writer; pure, so tests pass their own random source. */
export interface BackoffOptions {
  /** first retry waits up to this, ms (default 200) */
  baseMs: number;
  /** no wait exceeds this, ms (default 10 000) */
  maxMs: number;
}

export const BACKOFF_DEFAULTS: BackoffOptions = { baseMs: 200, maxMs: 10_000 };

/**
 * "Full jitter" exponential backoff (AWS Architecture Blog, "Exponential Backoff And Jitter"):
 * a uniform wait in [0, min(max, base·2^attempt)], so writers that failed together do not retry
 * together. A server's Retry-After is a floor, never shortened by jitter (RFC 9110 §10.2.3).
 */
export function retryDelayMs(attempt: number, retryAfterMs: number | null, random: () => number, o: BackoffOptions = BACKOFF_DEFAULTS): number {
  const cap = Math.min(o.maxMs, o.baseMs * 2 ** Math.min(attempt, 30));
  const jittered = Math.round(random() * cap);
  return retryAfterMs === null ? jittered : Math.max(retryAfterMs, jittered);
}

/**
 * Retry-After is either delay-seconds or an HTTP-date (RFC 9110 §10.2.3); null when absent or
 * unreadable. A date in the past means "now".
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | null {
  if (value === null || value === undefined || value.trim() === '') return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}

/** 429 and 5xx are the server's trouble and worth another try; any other 4xx is ours and never will be. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}
