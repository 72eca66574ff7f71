import { describe, expect, it } from 'vitest';
import { isTrustedProxyEntry } from '../src/index.js';

// The one check behind AERIE_CORE_TRUSTED_PROXIES and AERIE_TELEMETRY_TRUSTED_PROXIES: what
// fastify's trustProxy (proxy-addr) takes, refused at start otherwise.
describe('isTrustedProxyEntry', () => {
  it.each(['127.0.0.1', '10.0.0.0/8', '10.1.2.3/32', '0.0.0.0/0', '::1', 'fd00::/8', '2001:db8::/128', 'loopback', 'linklocal', 'uniquelocal'])('takes %s', (p) => {
    expect(isTrustedProxyEntry(p)).toBe(true);
  });

  it.each(['', 'gateway', '10.0.0.0/33', '::/129', '10.0.0.1/', '10.0.0.1/8/8', '10.0.0.1/x', '10.0.0.1/0008', '256.0.0.1', 'LOOPBACK', ' 10.0.0.1'])('refuses %j', (p) => {
    expect(isTrustedProxyEntry(p)).toBe(false);
  });
});
