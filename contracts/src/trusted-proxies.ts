// The trusted-proxy setting every HTTP service publishes to operators (AERIE_CORE_TRUSTED_PROXIES,
// AERIE_TELEMETRY_TRUSTED_PROXIES, the gateway's addresses in deploy/): one format, one check.
// isIP is a pure string test (no socket is opened): contracts stays free of I/O.
import { isIP } from 'node:net';

/** Named ranges fastify's trustProxy (proxy-addr) accepts besides addresses. */
const NAMED_RANGES: readonly string[] = ['loopback', 'linklocal', 'uniquelocal'];

/** What fastify's trustProxy (proxy-addr) takes: an IP, an IP/prefix, or its named ranges. */
export function isTrustedProxyEntry(p: string): boolean {
  if (NAMED_RANGES.includes(p)) return true;
  const [addr = '', bits, ...rest] = p.split('/');
  const v = isIP(addr);
  if (v === 0 || rest.length > 0) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (v === 4 ? 32 : 128));
}
