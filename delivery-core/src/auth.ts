import { createHash } from 'node:crypto';
import type { Clock } from '@aerie/contracts';
import { DeliveryError } from './errors.js';

export type Role = 'customer' | 'business' | 'operator' | 'admin';

export interface ApiKey {
  key: string;
  clientId: string;
  role: Role;
  /** The account a customer or business key acts for; operators and admins see every account. */
  account?: string;
}

export interface AuthConfig {
  /** No keys: authentication is off (the demo and local runs). */
  keys: readonly ApiKey[];
  /** Token bucket per client: sustained requests per second and burst. */
  ratePerSec: number;
  burst: number;
}

export interface Principal {
  clientId: string;
  role: Role;
  /** null for operators and admins: not tied to one account. */
  account: string | null;
}

const digest = (key: string) => createHash('sha256').update(key).digest('hex');

/**
 * API keys (`Authorization: Bearer <key>` or `X-Api-Key`), looked up by SHA-256 so the table
 * never compares secrets byte by byte, and a token bucket per client id.
 */
export class Authenticator {
  private readonly byDigest = new Map<string, Principal>();
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly cfg: Readonly<AuthConfig>, private readonly clock: Clock) {
    for (const k of cfg.keys) {
      const scoped = k.role === 'customer' || k.role === 'business';
      if (scoped && !k.account) throw new DeliveryError('DLV_ERR_CONFIG', 500, `key of ${k.clientId}: a ${k.role} key needs an account`);
      this.byDigest.set(digest(k.key), { clientId: k.clientId, role: k.role, account: scoped ? k.account! : null });
    }
  }

  get enabled(): boolean {
    return this.byDigest.size > 0;
  }

  authenticate(headers: Record<string, string | string[] | undefined>): Principal {
    const auth = headers.authorization;
    const given = typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : headers['x-api-key'];
    const p = typeof given === 'string' ? this.byDigest.get(digest(given)) : undefined;
    // RFC 9110 §11.6.1: a 401 names the scheme the client should use.
    if (!p) throw new DeliveryError('DLV_ERR_UNAUTHENTICATED', 401, 'a valid API key is required', { 'www-authenticate': 'Bearer realm="aerie"' });
    return p;
  }

  charge(p: Principal): void {
    const now = this.clock.now();
    const b = this.buckets.get(p.clientId) ?? { tokens: this.cfg.burst, at: now };
    b.tokens = Math.min(this.cfg.burst, b.tokens + ((now - b.at) / 1000) * this.cfg.ratePerSec);
    b.at = now;
    this.buckets.set(p.clientId, b);
    if (b.tokens < 1) {
      const retryS = Math.max(1, Math.ceil((1 - b.tokens) / this.cfg.ratePerSec));
      throw new DeliveryError('DLV_ERR_RATE_LIMITED', 429, `client ${p.clientId} is over ${this.cfg.ratePerSec} requests/s`, { 'retry-after': String(retryS) });
    }
    b.tokens -= 1;
  }
}

/** Whether `p` may see or change a delivery of `owner`; without auth (p null) everyone may. */
export function mayAct(p: Principal | null, owner: string | null): boolean {
  return p === null || p.account === null || p.account === owner;
}

export function forbidIfNot(p: Principal | null, owner: string | null): void {
  if (!mayAct(p, owner)) throw new DeliveryError('DLV_ERR_FORBIDDEN', 403, 'this delivery belongs to another account');
}
