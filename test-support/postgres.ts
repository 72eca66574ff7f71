import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, waitForPort } from './servers.js';

const ROOT = '/usr/lib/postgresql';
const USER = 'aerie';

export interface RunningPostgres {
  port: number;
  /** A new, empty database; its connection URL. */
  createDatabase(name?: string): Promise<string>;
  stop(): Promise<void>;
}

/** Debian's PostgreSQL binaries, the newest major version installed. */
export function postgresBinDir(): string {
  const versions = existsSync(ROOT) ? readdirSync(ROOT).filter((v) => existsSync(join(ROOT, v, 'bin', 'postgres'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (!versions[0]) throw new Error(`PostgreSQL is missing (no ${ROOT}/<version>/bin/postgres): apt-get install postgresql`);
  return join(ROOT, versions[0], 'bin');
}

/**
 * Debian's PostgreSQL for one test file: a cluster initialised in a temp dir, the server on a
 * free loopback port with fsync on (durability is what the tests check), its unix socket in the
 * temp dir, trust authentication for the test user. postgres refuses to run as root, so under
 * root the cluster belongs to Debian's `postgres` system user and runs as it.
 */
export async function startPostgres(): Promise<RunningPostgres> {
  const bin = postgresBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'aerie-pg-'));
  const data = join(dir, 'data');
  let ids: { uid: number; gid: number } | undefined;
  if (process.getuid?.() === 0) {
    ids = { uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })) };
    chownSync(dir, ids.uid, ids.gid);
  }
  let child: ChildProcess | undefined;
  try {
    // --no-sync only for initdb's own files (a throwaway cluster); the server below fsyncs.
    execFileSync(join(bin, 'initdb'), ['-D', data, '-U', USER, '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'], { ...ids, stdio: 'pipe', cwd: dir });
    const port = await freePort();
    let stderr = '';
    child = spawn(join(bin, 'postgres'), [
      '-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dir}`,
      '-c', 'fsync=on', '-c', 'synchronous_commit=on', '-c', 'max_connections=200',
    ], { ...ids, cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
    await waitForPort(port, child, 20_000, 'postgres', () => stderr);
    const url = (db: string) => `postgres://${USER}@127.0.0.1:${port}/${db}`;
    await ready(url('postgres'), () => stderr);
    let n = 0;
    const server = child;
    return {
      port,
      async createDatabase(name = `t${++n}_${process.pid}`) {
        const c = new pg.Client({ connectionString: url('postgres') });
        await c.connect();
        try {
          await c.query(`CREATE DATABASE "${name.replaceAll('"', '')}"`);
        } finally {
          await c.end();
        }
        return url(name);
      },
      async stop() {
        // SIGINT is the fast shutdown: open sessions are ended, not waited for.
        if (server.exitCode === null) {
          const exited = new Promise((r) => server.once('exit', r));
          server.kill('SIGINT');
          await exited;
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** The port opens before recovery ends ("the database system is starting up"): wait for a query. */
async function ready(url: string, stderr: () => string): Promise<void> {
  const until = Date.now() + 20_000;
  for (;;) {
    const c = new pg.Client({ connectionString: url });
    try {
      await c.connect();
      await c.query('SELECT 1');
      return;
    } catch (err) {
      if (Date.now() > until) throw new Error(`postgres did not accept queries\n${stderr()}`, { cause: err });
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await c.end().catch(() => undefined);
    }
  }
}
