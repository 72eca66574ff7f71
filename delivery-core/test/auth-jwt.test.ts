import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { SignJWT, UnsecuredJWT, exportJWK, generateKeyPair, type CryptoKey, type JSONWebKeySet, type JWTPayload } from 'jose';
import { Authenticator, DeliveryService, MemoryDeliveryRepository, MemoryFleetLink, buildHttp, coreConfig, type AuthConfig } from '../src/index.js';

let now = 1_700_000_000_000;
const clock = { now: () => now, setTimeout: () => 0, clearTimeout: () => undefined, setInterval: () => 0, clearInterval: () => undefined };
const SECRET = 'a-shared-hs256-secret-of-32-bytes-or-more';
const nowS = () => Math.floor(now / 1000);

let es256: CryptoKey;
let rs256: CryptoKey;
let stranger: CryptoKey;
let jwks: JSONWebKeySet;
let app: FastifyInstance;

beforeAll(async () => {
  const ec = await generateKeyPair('ES256');
  const rsa = await generateKeyPair('RS256');
  es256 = ec.privateKey;
  rs256 = rsa.privateKey;
  stranger = (await generateKeyPair('ES256')).privateKey;
  jwks = { keys: [{ ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256' }, { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256' }] };
  const config = coreConfig({ dbPath: ':memory:', auth: { jwt: { hs256Secret: SECRET, jwks, issuer: 'https://id.aerie.test', audience: 'aerie-core', clockToleranceS: 5 }, ratePerSec: 1, burst: 2 } });
  const service = new DeliveryService(new MemoryDeliveryRepository(), new MemoryFleetLink(), config, clock);
  app = buildHttp(service, new Authenticator(config.auth, clock));
});
afterAll(async () => {
  await app?.close();
});

const claims = (over: JWTPayload = {}): JWTPayload => ({
  sub: 'ops-1', role: 'operator', iss: 'https://id.aerie.test', aud: 'aerie-core', iat: nowS(), exp: nowS() + 600, ...over,
});
const hs = (c: JWTPayload, secret = SECRET) => new SignJWT(c).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));
const es = (c: JWTPayload, key = es256, kid = 'ec-1') => new SignJWT(c).setProtectedHeader({ alg: 'ES256', kid }).sign(key);
const rs = (c: JWTPayload) => new SignJWT(c).setProtectedHeader({ alg: 'RS256', kid: 'rsa-1' }).sign(rs256);

/** Signs at the current time after moving on 2 s, so each call meets a refilled bucket: this suite is about the token. */
async function call(make: () => Promise<string>) {
  now += 2000;
  const token = await make();
  return app.inject({ method: 'GET', url: '/api/v1/deliveries', headers: { authorization: `Bearer ${token}` } });
}

describe('JWT bearer tokens', () => {
  it('accepts HS256, ES256 and RS256 (JWKS, by kid) with sub, role and account claims', async () => {
    for (const make of [() => hs(claims()), () => es(claims()), () => rs(claims()), () => hs(claims({ sub: 'c-1', role: 'customer', account: 'alice' }))]) {
      expect((await call(make)).statusCode).toBe(200);
    }
  });

  it.each([
    ['expired', () => hs(claims({ exp: nowS() - 60 })), 'token expired'],
    ['not yet valid (nbf)', () => hs(claims({ nbf: nowS() + 60 })), 'claim nbf'],
    ['without exp', () => hs(claims({ exp: undefined })), 'claim exp'],
    ['of another issuer', () => hs(claims({ iss: 'https://evil.test' })), 'claim iss'],
    ['for another audience', () => hs(claims({ aud: 'someone-else' })), 'claim aud'],
    ['signed with another secret', () => hs(claims(), 'another-secret-that-is-32-bytes-long!!'), 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
    ['signed by a key not in the JWKS', () => es(claims(), stranger), 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
    ['with an unknown kid', () => es(claims(), es256, 'ec-9'), 'ERR_JWKS_NO_MATCHING_KEY'],
    ['unsigned (alg none)', () => Promise.resolve(new UnsecuredJWT(claims()).encode()), 'ERR_JOSE_ALG_NOT_ALLOWED'],
    ['with no role', () => hs(claims({ role: undefined })), 'role'],
    ['with an unknown role', () => hs(claims({ role: 'root' })), 'role'],
    ['of a customer without account', () => hs(claims({ role: 'customer' })), 'account'],
    ['without sub', () => hs(claims({ sub: undefined })), 'claim sub'],
  ])('refuses a token %s with 401 invalid_token', async (_name, make, why) => {
    const res = await call(make);
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ code: 'DLV_ERR_UNAUTHENTICATED' });
    expect(res.json<{ detail: string }>().detail).toContain(why);
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
  });

  it('allows clock skew up to the configured tolerance', async () => {
    expect((await call(() => hs(claims({ exp: nowS() - 3 })))).statusCode).toBe(200);
    expect((await call(() => hs(claims({ nbf: nowS() + 3 })))).statusCode).toBe(200);
  });

  it('refuses an HS256 token whose secret is the RSA public key (algorithm confusion)', async () => {
    const pub = JSON.stringify(jwks.keys[1]);
    const res = await call(() => hs(claims(), pub));
    expect(res.statusCode).toBe(401);
  });

  it('rate-limits per JWT sub with 429, Retry-After and a code', async () => {
    const token = await hs(claims({ sub: 'busy-client' }));
    const headers = { authorization: `Bearer ${token}` };
    const codes: number[] = [];
    for (let i = 0; i < 3; i++) codes.push((await app.inject({ method: 'GET', url: '/api/v1/deliveries', headers })).statusCode);
    expect(codes).toEqual([200, 200, 429]);
    const limited = await app.inject({ method: 'GET', url: '/api/v1/deliveries', headers });
    expect(limited.headers['retry-after']).toBe('1');
    expect(limited.json()).toMatchObject({ code: 'DLV_ERR_RATE_LIMITED', status: 429 });
  });

  it('refuses a configuration it cannot trust', () => {
    const base: AuthConfig = { keys: [], jwt: null, ratePerSec: 1, burst: 1, trackingSecret: '' };
    for (const auth of [
      { ...base, jwt: { hs256Secret: 'too-short' } },
      { ...base, jwt: {} },
      { ...base, keys: [{ key: 'k', clientId: 'c', role: 'root' as never }] },
      { ...base, keys: [{ key: 'k', clientId: 'c', role: 'business' as const }] },
    ]) {
      expect(() => new Authenticator(auth, clock)).toThrow(expect.objectContaining({ code: 'DLV_ERR_CONFIG' }) as Error);
    }
  });
});
