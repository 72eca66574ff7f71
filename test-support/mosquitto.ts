import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aclText, mosquittoConf, passwordFile, type BrokerUser } from '@aerie/local-engines';
import { freePort, stopServer, waitForPort } from './servers.js';

export type MosquittoUser = BrokerUser;

export interface RunningMosquitto {
  port: number;
  url: string;
  stop(): Promise<void>;
}

const BIN_DIRS = ['/usr/sbin', '/usr/bin', '/usr/local/sbin'];

function which(name: string): string {
  for (const d of BIN_DIRS) if (existsSync(join(d, name))) return join(d, name);
  // A suite that needs the server fails when it is missing; `npm test` installs it first.
  throw new Error(`${name} not found: install Debian's mosquitto package (npm test does this when run as root)`);
}

/**
 * Starts Debian's Mosquitto on a loopback port with password authentication and the Aerie ACL:
 * a drone reads and writes only below fleet/v1/<its username>/, services own fleet/ and svc/.
 * `max_queued_messages` is raised: Mosquitto's default of 1000 drops QoS 1 under load.
 */
export async function startMosquitto(users: MosquittoUser[], opts: { port?: number } = {}): Promise<RunningMosquitto> {
  const bin = which('mosquitto');
  const dir = mkdtempSync(join(tmpdir(), 'aerie-mosquitto-'));
  const passwd = join(dir, 'passwd');
  // The launcher's password file and ACL (distributed/src/engines/mosquitto.ts), from one source.
  writeFileSync(passwd, passwordFile(users));
  writeFileSync(join(dir, 'acl'), aclText(users));
  // `port` lets a test stop the broker and start it again where its clients reconnect.
  const port = opts.port ?? (await freePort());
  writeFileSync(join(dir, 'mosquitto.conf'), mosquittoConf({
    port, passwordFile: passwd, aclFile: join(dir, 'acl'),
    settings: ['persistence false', 'max_queued_messages 100000', 'max_inflight_messages 100'],
  }));
  // Started as root, Mosquitto drops to the `mosquitto` user, which must read these test files.
  chmodSync(dir, 0o755);
  for (const f of ['passwd', 'acl', 'mosquitto.conf']) chmodSync(join(dir, f), 0o644);
  const child = spawn(bin, ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  await waitForPort(port, child, 10_000, 'mosquitto', () => stderr);
  return { port, url: `mqtt://127.0.0.1:${port}`, stop: () => stopServer(child, dir) };
}
