import { createHash, randomBytes } from 'node:crypto';
import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Clock } from '@aerie/contracts';
import { DeliveryError } from './errors.js';

export const ROLES = ['customer', 'business', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface ApiKey {
  key: string;
  clientId: string;
  role: Role;
  /** The account a customer or business key acts for; operators and admins see every account. */
  account?: string;
  /** This client's own token bucket, instead of its role's or the default. */
  rate?: RateLimit;
}

/** A token bucket: sustained requests per second and burst. */
export interface RateLimit {
  ratePerSec: number;
  burst: number;
}

/**
 * JWTs signed by an identity provider: claims `sub` (the client), `role`, `account` (customer and
 * business), `exp` required, `nbf` honoured. HS256 with a shared secret and/or RS256/ES256 with
 * the provider's public keys as a JWKS (RFC 7517 §5), picked by `kid`.
 */
export interface JwtConfig {
  /** HS256 secret; RFC 7518 §3.2: at least 32 bytes. */
  hs256Secret?: string;
  /** Public keys (RS256, ES256). */
  jwks?: JSONWebKeySet;
  issuer?: string;
  audience?: string;
  /** Leeway for exp/nbf against clock skew (s). */
  clockToleranceS?: number;
}

export interface AuthConfig {
  /** No keys and no JWT: authentication is off (the demo and local runs). */
  keys: readonly ApiKey[];
  jwt: JwtConfig | null;
  /** Token bucket per client: sustained requests per second and burst (the default for every client). */
  ratePerSec: number;
  burst: number;
  /** Per role, instead of the default (e.g. a business's integration above its customers); a key's own `rate` comes first. */
  roleRates?: Partial<Record<Role, RateLimit>>;
  /** HMAC key of the public tracking links; empty: a random one per process (links die with it). */
  trackingSecret: string;
}

export interface Principal {
  clientId: string;
  role: Role;
  /** null for operators and admins: not tied to one account. */
  account: string | null;
  /** The key's own bucket, when it has one. */
  rate?: RateLimit;
}

const digest = (key: string) => createHash('sha256').update(key).digest('hex');
const isRole = (r: unknown): r is Role => typeof r === 'string' && (ROLES as readonly string[]).includes(r);
const scoped = (r: Role) => r === 'customer' || r === 'business';
/** Above this many buckets, full (idle) ones are dropped: a JWT `sub` is unbounded. */
const MAX_IDLE_BUCKETS = 10_000;
const validRate = (r: RateLimit) => Number.isFinite(r.ratePerSec) && r.ratePerSec > 0 && Number.isFinite(r.burst) && r.burst >= 1;

function unauthenticated(detail: string, tokenError = false): DeliveryError {
  // RFC 9110 §11.6.1: a 401 names the scheme; RFC 6750 §3.1: a bad bearer token is invalid_token.
  return new DeliveryError('DLV_ERR_UNAUTHENTICATED', 401, detail, {
    'www-authenticate': tokenError ? `Bearer realm="aerie", error="invalid_token", error_description="${detail.replace(/"/g, "'")}"` : 'Bearer realm="aerie"',
  });
}

/**
 * API keys (`Authorization: Bearer <key>` or `X-Api-Key`), looked up by SHA-256 so the table
 * never compares secrets byte by byte; JWTs (`Authorization: Bearer <jwt>`); a token bucket per client.
 */
export class Authenticator {
  private readonly byDigest = new Map<string, Principal>();
  private readonly buckets = new Map<string, { tokens: number; at: number; limit: RateLimit }>();
  private readonly verifyJwt: ((token: string) => Promise<JWTPayload>) | null;
  readonly trackingSecret: string;

  constructor(private readonly cfg: Readonly<AuthConfig>, private readonly clock: Clock) {
    for (const k of cfg.keys) {
      if (!isRole(k.role)) throw new DeliveryError('DLV_ERR_CONFIG', 500, `key of ${k.clientId}: role must be one of ${ROLES.join(', ')}`);
      if (scoped(k.role) && !k.account) throw new DeliveryError('DLV_ERR_CONFIG', 500, `key of ${k.clientId}: a ${k.role} key needs an account`);
      if (k.rate && !validRate(k.rate)) throw new DeliveryError('DLV_ERR_CONFIG', 500, `key of ${k.clientId}: rate needs ratePerSec > 0 and burst ≥ 1`);
      this.byDigest.set(digest(k.key), { clientId: k.clientId, role: k.role, account: scoped(k.role) ? k.account! : null, ...(k.rate ? { rate: { ...k.rate } } : {}) });
    }
    for (const [role, r] of Object.entries(cfg.roleRates ?? {})) {
      if (!isRole(role) || !r || !validRate(r)) throw new DeliveryError('DLV_ERR_CONFIG', 500, `roleRates.${role}: a role (${ROLES.join(', ')}) with ratePerSec > 0 and burst ≥ 1`);
    }
    this.verifyJwt = cfg.jwt ? jwtVerifier(cfg.jwt, clock) : null;
    this.trackingSecret = cfg.trackingSecret || randomBytes(32).toString('base64url');
  }

  /** Open (no keys, no JWT) for local runs: every API request acts with full rights. */
  static open(clock: Clock): Authenticator {
    return new Authenticator({ keys: [], jwt: null, ratePerSec: 50, burst: 100, trackingSecret: '' }, clock);
  }

  get enabled(): boolean {
    return this.byDigest.size > 0 || this.verifyJwt !== null;
  }

  async authenticate(headers: Record<string, string | string[] | undefined>): Promise<Principal> {
    const auth = headers.authorization;
    const given = typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : headers['x-api-key'];
    if (typeof given !== 'string' || given.length === 0) throw unauthenticated('an API key or a bearer JWT is required');
    const p = this.byDigest.get(digest(given));
    if (p) return p;
    // RFC 7519 §7.2: a JWS compact serialisation has exactly three dot-separated parts.
    if (!this.verifyJwt || given.split('.').length !== 3) throw unauthenticated('a valid API key is required');
    let claims: JWTPayload;
    try {
      claims = await this.verifyJwt(given);
    } catch (err) {
      throw unauthenticated(jwtFailure(err), true);
    }
    const { sub, role, account } = claims;
    if (typeof sub !== 'string' || sub.length === 0) throw unauthenticated('token has no sub', true);
    if (!isRole(role)) throw unauthenticated(`token role must be one of ${ROLES.join(', ')}`, true);
    if (scoped(role) && (typeof account !== 'string' || account.length === 0)) throw unauthenticated(`a ${role} token needs an account claim`, true);
    return { clientId: sub, role, account: scoped(role) ? (account as string) : null };
  }

  /** One request against `clientId`'s bucket; 429 with Retry-After (RFC 6585 §4) when empty. */
  charge(clientId: string, limit: RateLimit = this.cfg): void {
    const now = this.clock.now();
    const b = this.buckets.get(clientId) ?? { tokens: limit.burst, at: now, limit };
    b.limit = limit;
    b.tokens = Math.min(limit.burst, b.tokens + ((now - b.at) / 1000) * limit.ratePerSec);
    b.at = now;
    if (!this.buckets.has(clientId)) {
      if (this.buckets.size >= MAX_IDLE_BUCKETS) this.dropFullBuckets(now);
      this.buckets.set(clientId, b);
    }
    if (b.tokens < 1) {
      const retryS = Math.max(1, Math.ceil((1 - b.tokens) / limit.ratePerSec));
      throw new DeliveryError('DLV_ERR_RATE_LIMITED', 429, `client ${clientId} is over ${limit.ratePerSec} requests/s`, { 'retry-after': String(retryS) });
    }
    b.tokens -= 1;
  }

  private dropFullBuckets(now: number): void {
    for (const [id, b] of this.buckets) if (b.tokens + ((now - b.at) / 1000) * b.limit.ratePerSec >= b.limit.burst) this.buckets.delete(id);
  }

  /** A principal's bucket: its key's own, else its role's, else the default. */
  limitOf(p: Principal): RateLimit {
    return p.rate ?? this.cfg.roleRates?.[p.role] ?? this.cfg;
  }
}

function jwtVerifier(cfg: JwtConfig, clock: Clock): (token: string) => Promise<JWTPayload> {
  const secret = cfg.hs256Secret ? new TextEncoder().encode(cfg.hs256Secret) : null;
  if (secret && secret.length < 32) throw new DeliveryError('DLV_ERR_CONFIG', 500, 'auth.jwt.hs256Secret must be at least 32 bytes (RFC 7518 §3.2)');
  const jwks = cfg.jwks ? createLocalJWKSet(cfg.jwks) : null;
  if (!secret && !jwks) throw new DeliveryError('DLV_ERR_CONFIG', 500, 'auth.jwt needs hs256Secret or jwks');
  // The accepted algorithms are fixed by what is configured, never by the token's header:
  // no "alg": "none", no public key mistaken for an HMAC secret.
  const algorithms = [...(secret ? ['HS256'] : []), ...(jwks ? ['RS256', 'ES256'] : [])];
  const keyFor: JWTVerifyGetKey = async (header, t) => {
    if (header.alg === 'HS256' && secret) return secret;
    if (jwks) return jwks(header, t);
    throw new joseErrors.JOSEAlgNotAllowed(`alg ${header.alg} is not accepted`);
  };
  return async (token) => {
    const options = {
      algorithms, currentDate: new Date(clock.now()), clockTolerance: cfg.clockToleranceS ?? 0, requiredClaims: ['exp', 'sub'],
      ...(cfg.issuer ? { issuer: cfg.issuer } : {}), ...(cfg.audience ? { audience: cfg.audience } : {}),
    };
    const { payload } = await jwtVerify(token, keyFor, options);
    return payload;
  };
}

function jwtFailure(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'token expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `token claim ${err.claim} invalid: ${err.reason}`;
  if (err instanceof joseErrors.JOSEError) return `token rejected (${err.code})`;
  return 'token rejected';
}

// Which account a customer or business may act for: routes/accounts-scope.ts (a business also
// for its customers, which needs the account store).

/** Fleet views and other operations resources: 403 for a role not in `roles` (auth off: allowed). */
export function requireRole(p: Principal | null, roles: readonly Role[]): void {
  if (p !== null && !roles.includes(p.role)) throw new DeliveryError('DLV_ERR_ROLE_FORBIDDEN', 403, `role ${p.role} may not use this resource (needs ${roles.join(' or ')})`);
}
