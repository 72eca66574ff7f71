import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The capability in a public tracking link: HMAC-SHA256 of the delivery id under the core's
 * tracking secret, 128 bits kept (NIST SP 800-107 §5.3.4 allows truncating an HMAC to ≥ 64 bits
 * when forgeries are rate-limited; 128 leaves no room for guessing). Stateless: no table, and a
 * new secret revokes every link at once.
 */
export function trackingToken(secret: string, deliveryId: string): string {
  return createHmac('sha256', secret).update(`aerie-track\n${deliveryId}`).digest().subarray(0, 16).toString('base64url');
}

export function validTrackingToken(secret: string, deliveryId: string, given: unknown): boolean {
  if (typeof given !== 'string' || given.length !== 22) return false;
  const expected = Buffer.from(trackingToken(secret, deliveryId));
  const actual = Buffer.from(given);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** The path of the public tracking page of a delivery, as returned with the delivery. */
export function trackingPath(secret: string, deliveryId: string): string {
  return `/track/${encodeURIComponent(deliveryId)}?t=${trackingToken(secret, deliveryId)}`;
}
