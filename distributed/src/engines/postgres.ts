import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnChild, type OutputSinks, type Started } from '../child.js';
import { alive } from '../proc.js';
import { chownTree, postgresBinDir, runningAsRoot, systemUser } from './system.js';

export interface PostgresOptions {
  /** The engine's own directory: `data` (the cluster, initialised once) and the unix socket. */
  dir: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

export interface PostgresEngine {
  port: number;
  url: string;
  start(out: OutputSinks): Promise<Started>;
  probe(): Promise<boolean>;
  /** Creates the database unless it exists (after the first readiness). */
  ensureDatabase(): Promise<void>;
}

function run(bin: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ ok: boolean; stderr: string }> {
  return new Promise((resolve) => {
    execFile(bin, args, { env, timeout: 10_000 }, (err, _stdout, stderr) => resolve({ ok: !err, stderr: String(stderr) }));
  });
}

/**
 * Debian's PostgreSQL on loopback: the cluster is initialised once into DIR/data (scram-sha-256 over
 * TCP, the socket in DIR for local tools), then each start runs `postgres -D` on it with the same
 * port. postgres refuses root: as root the cluster belongs to Debian's `postgres` user and runs as it.
 */
export function preparePostgres(o: PostgresOptions): PostgresEngine {
  const bin = postgresBinDir();
  const data = join(o.dir, 'data');
  const ids = runningAsRoot() ? systemUser('postgres') : undefined;
  mkdirSync(o.dir, { recursive: true });
  if (ids) chownTree(o.dir, ids);
  chmodSync(o.dir, 0o700);
  if (!existsSync(join(data, 'PG_VERSION'))) {
    rmSync(data, { recursive: true, force: true });
    const pwfile = join(o.dir, 'initdb.pw');
    writeFileSync(pwfile, o.password + '\n', { mode: 0o600 });
    if (ids) chownTree(o.dir, ids);
    try {
      execFileSync(join(bin, 'initdb'), ['-D', data, '-U', o.user, `--pwfile=${pwfile}`, '--auth-host=scram-sha-256', '--auth-local=peer', '-E', 'UTF8', '--locale=C'], {
        ...ids, cwd: o.dir, stdio: ['ignore', 'ignore', 'pipe'],
      });
    } catch (err) {
      throw new Error(`initdb failed: ${String((err as { stderr?: Buffer }).stderr ?? err)}`, { cause: err });
    } finally {
      rmSync(pwfile, { force: true });
    }
  }
  const pgEnv = { ...process.env, PGPASSWORD: o.password, PGCONNECT_TIMEOUT: '3' };
  return {
    port: o.port,
    url: `postgres://${o.user}:${encodeURIComponent(o.password)}@127.0.0.1:${o.port}/${o.database}`,
    start(out) {
      // After a kill -9 the lock file names a dead postmaster, or one whose pid the kernel has
      // since given to something else: postgres would then refuse ("lock file already exists").
      // A live postgres holding it is left alone; its backends still attached to the old shared
      // memory make this start exit, and the supervisor retries with backoff until they are gone.
      const lock = join(data, 'postmaster.pid');
      if (existsSync(lock)) {
        const pid = Number(readFileSync(lock, 'utf8').split('\n')[0]);
        const comm = alive(pid) ? readFileSync(`/proc/${pid}/comm`, 'utf8').trim() : '';
        if (comm !== 'postgres') rmSync(lock, { force: true });
      }
      return spawnChild({
        command: join(bin, 'postgres'),
        args: ['-D', data, '-p', String(o.port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${o.dir}`, '-c', 'max_connections=200'],
        cwd: o.dir, ...ids,
      }, out);
    },
    // The port opens before recovery ends ("the database system is starting up"): pg_isready says when it accepts.
    probe: async () => (await run(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(o.port), '-q'], pgEnv)).ok,
    async ensureDatabase() {
      const r = await run(join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(o.port), '-U', o.user, o.database], pgEnv);
      if (!r.ok && !r.stderr.includes('already exists')) throw new Error(`createdb ${o.database}: ${r.stderr.trim()}`);
    },
  };
}
