/**
 * How a saga step fails. Transient: worth trying again later (a timeout, a dependency down,
 * no drone free right now). Permanent: trying again cannot help (the hub rejected the mission,
 * no drone can ever carry the package, the account is closed) — the saga compensates.
 * Codes are stable (`DLV_SAGA_…`) and recorded in the saga's durable state and on the
 * failed delivery; callers match on `code`, never on the message.
 */
export class StepError extends Error {
  constructor(readonly code: string, message: string, readonly transient: boolean) {
    super(message);
    this.name = new.target.name;
  }
}

export class TransientError extends StepError {
  constructor(code: string, message: string, readonly retryAt?: number) {
    super(code, message, true);
  }
}

/**
 * An expected wait (no drone proposed yet, the proposed one is taken): a TransientError without
 * a stack trace. Every waiting saga throws one on each pass, and capturing the stack (V8 walks
 * and formats up to Error.stackTraceLimit frames) was a measurable share of the Supervisor's
 * CPU under load (bench:api); the code and message say all there is to say about a wait.
 */
export function waiting(code: string, message: string, retryAt?: number): TransientError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new TransientError(code, message, retryAt);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

export class PermanentError extends StepError {
  constructor(code: string, message: string) {
    super(code, message, false);
  }
}

/**
 * Anything that is not declared permanent counts as transient: an unknown error from a
 * driver (ECONNRESET, a lock timeout) is far more often passing than final, and the saga's
 * attempt cap turns a transient error that never passes into a permanent one.
 */
export function isTransient(err: unknown): boolean {
  return !(err instanceof StepError) || err.transient;
}

export function errorCode(err: unknown): string {
  if (err instanceof StepError) return err.code;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'DLV_SAGA_UNEXPECTED';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Stable codes a saga records when it fails (the delivery's failureReason starts with one) or waits,
 * pinned by test/saga.test.ts.
 */
export const SagaFailureCodes = {
  DLV_SAGA_NO_DELIVERY: 'The delivery the saga is for does not exist',
  DLV_SAGA_DELIVERY_ENDED: 'The delivery was cancelled or ended before it was scheduled',
  DLV_SAGA_ACCOUNT_UNKNOWN: 'The delivery\'s owner is not a registered account',
  DLV_SAGA_ACCOUNT_SUSPENDED: 'The delivery\'s owner account is suspended',
  DLV_SAGA_PACKAGE_BOUND: 'The package is already carried by another delivery',
  DLV_SAGA_NO_DRONE_FITS: 'No drone of the fleet can ever carry this package over this trip',
  DLV_SAGA_MISSION_REJECTED: 'The hub refused the mission',
  DLV_SAGA_DRONE_TAKEN: 'The reserved drone was given to another delivery outside the saga',
  DLV_SAGA_GAVE_UP: 'A transient failure did not pass within the step\'s attempts',
  DLV_SAGA_UNEXPECTED: 'A step failed with an unclassified error',
  DLV_SAGA_WINDOW_MISSED: 'The pickup window closed, or no drone can reach the dropoff by the deadline any more',
  // Transient: recorded while the saga waits, never as a failure reason.
  DLV_SAGA_WAITING_FOR_DRONE: 'No drone has been proposed for the delivery yet',
  DLV_SAGA_DRONE_BUSY: 'The proposed drone is reserved by another delivery',
  DLV_SAGA_CIRCUIT_OPEN: 'The dependency\'s circuit is open',
  DLV_SAGA_AWAITING_HUB: 'The hub has not answered the dispatched assignment yet',
  DLV_SAGA_HUB_NO_REPLY: 'The hub did not answer the dispatched assignment in time; it is sent again',
} as const;
export type SagaFailureCode = keyof typeof SagaFailureCodes;
