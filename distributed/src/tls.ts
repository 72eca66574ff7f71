import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface GatewayPki {
  caFile: string;
  certFile: string;
  keyFile: string;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    throw new Error(`openssl ${args[0]} failed (is Debian's openssl installed?): ${String((err as { stderr?: Buffer }).stderr ?? err)}`, { cause: err });
  }
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/**
 * A local CA and the gateway's certificate for 127.0.0.1 and localhost, made once with openssl into
 * DIR (as test-support/certs.ts does for the tests); a relaunch reuses them, so a client that
 * trusts the CA keeps trusting the gateway.
 */
export function gatewayPki(dir: string): GatewayPki {
  const pki = { caFile: join(dir, 'ca.crt'), certFile: join(dir, 'gateway.crt'), keyFile: join(dir, 'gateway.key') };
  if (existsSync(pki.caFile) && existsSync(pki.certFile) && existsSync(pki.keyFile)) return pki;
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  openssl(['req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=aerie-distributed-ca', '-days', '825'], dir);
  writeFileSync(join(dir, 'gateway.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  openssl(['req', ...EC, '-keyout', 'gateway.key', '-out', 'gateway.csr', '-subj', '/CN=localhost'], dir);
  openssl(['x509', '-req', '-in', 'gateway.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'gateway.crt', '-days', '825', '-extfile', 'gateway.ext'], dir);
  return pki;
}
