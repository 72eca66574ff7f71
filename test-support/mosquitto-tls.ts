import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, stopServer, waitForPort } from './servers.js';

export interface TlsMaterial {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  /** A client certificate with CN = `clientCn`, signed by the same CA. */
  clientCert: string;
  clientKey: string;
  /** A CA nobody signed the server with: a client trusting only it must refuse the broker. */
  otherCa: string;
}

function bin(name: string, dirs: string[], pkg: string): string {
  for (const d of dirs) if (existsSync(join(d, name))) return join(d, name);
  throw new Error(`${name} not found: install Debian's ${pkg} package`);
}

/** A throw-away CA, a server certificate for 127.0.0.1/localhost and a client certificate, made with openssl. */
export function makeTlsMaterial(clientCn: string): TlsMaterial {
  const openssl = bin('openssl', ['/usr/bin', '/usr/local/bin'], 'openssl');
  const dir = mkdtempSync(join(tmpdir(), 'aerie-tls-'));
  const p = (f: string): string => join(dir, f);
  const run = (...args: string[]): void => void execFileSync(openssl, args, { stdio: 'ignore' });
  for (const ca of ['ca', 'other-ca']) {
    run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=Aerie test ${ca}`, '-keyout', p(`${ca}.key`), '-out', p(`${ca}.crt`));
  }
  writeFileSync(p('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', p('server.key'), '-out', p('server.csr'));
  run('x509', '-req', '-in', p('server.csr'), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', p('server.ext'), '-out', p('server.crt'));
  run('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${clientCn}`, '-keyout', p('client.key'), '-out', p('client.csr'));
  run('x509', '-req', '-in', p('client.csr'), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial', '-days', '2', '-out', p('client.crt'));
  chmodSync(dir, 0o755);
  for (const f of ['ca.crt', 'server.crt', 'server.key']) chmodSync(p(f), 0o644);
  return { dir, ca: p('ca.crt'), serverCert: p('server.crt'), serverKey: p('server.key'), clientCert: p('client.crt'), clientKey: p('client.key'), otherCa: p('other-ca.crt') };
}


export interface RunningTlsMosquitto {
  port: number;
  url: string;
  stop(): Promise<void>;
}

/**
 * Debian's Mosquitto with a TLS listener. With `requireCertificate` a client must present a
 * certificate from the CA and its CN becomes its username (use_identity_as_username); otherwise
 * username/password from `users`. `port` lets a test stop and restart the broker on the same port.
 */
export async function startTlsMosquitto(tls: TlsMaterial, opts: { requireCertificate: boolean; users?: { username: string; password: string }[]; port?: number; persistenceDir?: string }): Promise<RunningTlsMosquitto> {
  const mosq = bin('mosquitto', ['/usr/sbin', '/usr/bin'], 'mosquitto');
  const dir = mkdtempSync(join(tmpdir(), 'aerie-mosq-tls-'));
  const port = opts.port ?? (await freePort());
  const lines = [
    `listener ${port} 127.0.0.1`, `cafile ${tls.ca}`, `certfile ${tls.serverCert}`, `keyfile ${tls.serverKey}`,
    'max_queued_messages 100000', 'log_dest stderr', 'log_type error',
    // With a persistence directory, sessions and their queued QoS 1 messages survive a broker restart.
    ...(opts.persistenceDir ? ['persistence true', `persistence_location ${opts.persistenceDir}/`] : ['persistence false']),
  ];
  if (opts.requireCertificate) lines.push('require_certificate true', 'use_identity_as_username true', 'allow_anonymous false');
  else {
    const passwd = join(dir, 'passwd');
    writeFileSync(passwd, '');
    for (const u of opts.users ?? []) execFileSync(bin('mosquitto_passwd', ['/usr/bin', '/usr/sbin'], 'mosquitto'), ['-b', passwd, u.username, u.password]);
    chmodSync(passwd, 0o644);
    lines.push('allow_anonymous false', `password_file ${passwd}`);
  }
  writeFileSync(join(dir, 'mosquitto.conf'), lines.join('\n') + '\n');
  chmodSync(dir, 0o755);
  chmodSync(join(dir, 'mosquitto.conf'), 0o644);
  const child = spawn(mosq, ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  await waitForPort(port, child, 10_000, 'mosquitto (TLS)', () => stderr);
  return { port, url: `mqtts://127.0.0.1:${port}`, stop: () => stopServer(child, dir) };
}
