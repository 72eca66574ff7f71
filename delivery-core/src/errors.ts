/** Stable error codes of delivery-core, answered as RFC 9457 problem+json `code`. */
export const DeliveryErrorCodes = {
  DLV_ERR_VALIDATION: 'The request does not match the API schema',
  DLV_ERR_NOT_FOUND: 'No delivery with this id',
  DLV_ERR_ID_CONFLICT: 'A different delivery already exists with this id',
  DLV_ERR_TOO_LATE_TO_CANCEL: 'The package has been picked up; the delivery can no longer be cancelled',
  DLV_ERR_NOT_ACTIVE: 'The delivery has already ended',
  DLV_ERR_INTERNAL: 'Internal error',
  DLV_ERR_CONFIG: 'Invalid delivery-core configuration',
  DLV_ERR_IDEMPOTENCY_KEY_MISSING: 'POST needs an Idempotency-Key header',
  DLV_ERR_IDEMPOTENCY_KEY_REUSED: 'This Idempotency-Key was used with a different request',
  DLV_ERR_TOO_LATE_TO_RESCHEDULE: 'The drone is on its way or the package picked up; the delivery can no longer be changed',
  DLV_ERR_UNAUTHENTICATED: 'A valid API key or JWT is required',
  DLV_ERR_FORBIDDEN: 'This API key may not act on this delivery',
  DLV_ERR_RATE_LIMITED: 'Too many requests from this client',
  DLV_ERR_ROLE_FORBIDDEN: 'This role may not use this resource',
  DLV_ERR_DRONE_NOT_FOUND: 'No drone with this id',
  DLV_ERR_ACCOUNT_NOT_FOUND: 'No account with this id',
  DLV_ERR_ACCOUNT_CONFLICT: 'A different account already exists with this id',
  DLV_ERR_PACKAGE_NOT_FOUND: 'No package with this id',
  DLV_ERR_PACKAGE_CONFLICT: 'A different package already exists with this id, or the package or delivery is already bound',
  DLV_ERR_WINDOW_INVALID: 'The pickup window ends before it starts, or the deadline is before the pickup window opens',
  DLV_ERR_WINDOW_PAST: 'The pickup window or the deadline is already over',
  DLV_ERR_DEADLINE_UNREACHABLE: 'Not even a drone waiting at the pickup could reach the dropoff by the deadline',
  DLV_ERR_ID_CONFLICT_LATE: 'Accepted by this instance, but another instance had created the id with a different request (route creates by id)',
} as const;
export type DeliveryErrorCode = keyof typeof DeliveryErrorCodes;

export class DeliveryError extends Error {
  constructor(readonly code: DeliveryErrorCode, readonly status: number, message?: string, readonly headers: Readonly<Record<string, string>> = {}) {
    super(message ?? DeliveryErrorCodes[code]);
    this.name = 'DeliveryError';
  }
}
