import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, stopServer, waitForPort } from './servers.js';

export interface MosquittoUser {
  username: string;
  password: string;
  role: 'drone' | 'service';
}

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
  const passwdBin = which('mosquitto_passwd');
  const dir = mkdtempSync(join(tmpdir(), 'aerie-mosquitto-'));
  const passwd = join(dir, 'passwd');
  writeFileSync(passwd, '');
  for (const u of users) execFileSync(passwdBin, ['-b', passwd, u.username, u.password]);
  const acl = [
    ...users.filter((u) => u.role === 'service').flatMap((u) => [`user ${u.username}`, 'topic readwrite fleet/v1/#', 'topic readwrite svc/v1/#', '']),
    'pattern write fleet/v1/%u/status',
    'pattern write fleet/v1/%u/events',
    'pattern write fleet/v1/%u/online',
    'pattern write fleet/v1/%u/cmd/result',
    'pattern read fleet/v1/%u/cmd',
    '',
  ].join('\n');
  writeFileSync(join(dir, 'acl'), acl);
  // `port` lets a test stop the broker and start it again where its clients reconnect.
  const port = opts.port ?? (await freePort());
  writeFileSync(join(dir, 'mosquitto.conf'), [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous false',
    `password_file ${passwd}`,
    `acl_file ${join(dir, 'acl')}`,
    'persistence false',
    'max_queued_messages 100000',
    'max_inflight_messages 100',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    '',
  ].join('\n'));
  // Started as root, Mosquitto drops to the `mosquitto` user, which must read these test files.
  chmodSync(dir, 0o755);
  for (const f of ['passwd', 'acl', 'mosquitto.conf']) chmodSync(join(dir, f), 0o644);
  const child = spawn(bin, ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  await waitForPort(port, child, 10_000, 'mosquitto', () => stderr);
  return { port, url: `mqtt://127.0.0.1:${port}`, stop: () => stopServer(child, dir) };
}
