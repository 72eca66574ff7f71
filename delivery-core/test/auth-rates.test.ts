import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { Authenticator, DeliveryError, DeliveryService, MemoryDeliveryRepository, MemoryFleetLink, buildHttp, coreConfig } from '../src/index.js';

// Issue 7: per-client rate limits — a default bucket, one per role (roleRates) and a key's own
// (rate), each client still on its own bucket.
let now = 1_700_000_000_000;
const clock = { now: () => now, setTimeout: () => 0, clearTimeout: () => undefined, setInterval: () => 0, clearInterval: () => undefined };
const config = coreConfig({
  dbPath: ':memory:',
  auth: {
    ratePerSec: 1, burst: 2,
    roleRates: { business: { ratePerSec: 5, burst: 5 } },
    keys: [
      { key: 'k-alice', clientId: 'alice', role: 'customer', account: 'alice' },
      { key: 'k-bob', clientId: 'bob', role: 'customer', account: 'bob' },
      { key: 'k-shop', clientId: 'shop', role: 'business', account: 'shop-1' },
      { key: 'k-batch', clientId: 'batch', role: 'operator', rate: { ratePerSec: 1, burst: 8 } },
    ],
  },
});
let app: FastifyInstance;

beforeEach(() => {
  const service = new DeliveryService(new MemoryDeliveryRepository(), new MemoryFleetLink(), config, clock);
  app = buildHttp(service, new Authenticator(config.auth, clock));
});
afterEach(async () => {
  await app.close();
});

/** How many of n requests in the same instant the key gets through before its 429s. */
async function through(key: string, n: number): Promise<number> {
  let ok = 0;
  for (let i = 0; i < n; i++) {
    const res = await app.inject({ method: 'GET', url: '/api/v1/deliveries', headers: { 'x-api-key': key } });
    if (res.statusCode === 200) ok++;
    else expect(res.json()).toMatchObject({ code: 'DLV_ERR_RATE_LIMITED', status: 429 });
  }
  return ok;
}

describe('per-client rate limits', () => {
  it('the default bucket, a role bucket and a key bucket, each client on its own', async () => {
    expect(await through('k-alice', 10)).toBe(2);
    expect(await through('k-bob', 10)).toBe(2);
    expect(await through('k-shop', 10)).toBe(5);
    expect(await through('k-batch', 10)).toBe(8);
    // Refill at each bucket's own rate: 1 s gives the business 5 more, the customer 1.
    now += 1000;
    expect(await through('k-shop', 10)).toBe(5);
    expect(await through('k-alice', 10)).toBe(1);
    const limited = await app.inject({ method: 'GET', url: '/api/v1/deliveries', headers: { 'x-api-key': 'k-shop' } });
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBe('1');
  });

  it('refuses a malformed rate at start with a config error', () => {
    const bad = (auth: object) => () => new Authenticator({ ...config.auth, ...auth }, clock);
    expect(bad({ keys: [{ key: 'k', clientId: 'c', role: 'operator', rate: { ratePerSec: 0, burst: 5 } }] })).toThrow(DeliveryError);
    expect(bad({ roleRates: { pilot: { ratePerSec: 1, burst: 1 } } })).toThrow(/roleRates.pilot/);
    expect(bad({ roleRates: { business: { ratePerSec: 1, burst: 0 } } })).toThrow(/roleRates.business/);
  });
});
