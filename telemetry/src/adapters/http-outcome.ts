import { isRetryableStatus, parseRetryAfter } from '../domain/backoff.js';
import type { WriteOutcome } from '../ports.js';

/** Maps an HTTP answer of a write endpoint to an outcome; 2xx is success whatever the body. */
export function outcomeOf(status: number, body: string, retryAfter: string | null): WriteOutcome {
  if (status >= 200 && status < 300) return { ok: true };
  return {
    ok: false,
    retryable: isRetryableStatus(status),
    status,
    retryAfterMs: parseRetryAfter(retryAfter, Date.now()),
    detail: body.replace(/\s+/g, ' ').trim().slice(0, 1000),
  };
}

/** No answer at all (refused, reset, timed out): the server may be restarting, so try again. */
export function unreachable(err: unknown): WriteOutcome {
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
  const text = err instanceof Error ? `${err.message}${cause}` : String(err);
  return { ok: false, retryable: true, status: null, retryAfterMs: null, detail: text };
}
