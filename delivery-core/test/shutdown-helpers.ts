import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Aedes } from 'aedes';
import pg from 'pg';
import { afterAll } from 'vitest';
import { freePort } from '../../test-support/servers.js';
import { postgresBinDir } from '../../test-support/postgres.js';

// Issue 8: what the graceful-shutdown suites share (shutdown*.test.ts): aerie-core as a real
// child process (node dist/main.js), a real aedes broker and Debian's PostgreSQL, each of which
// can be stopped and started again on the same port.

export const root = mkdtempSync(join(tmpdir(), 'aerie-core-shutdown-'));
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
});
const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
export const body = { pickup: { lat: 47.399, lon: 8.547 }, dropoff: { lat: 47.401, lon: 8.55 } };

/** An aedes broker on a fixed loopback port, which can be stopped and started again there. */
export async function restartableBroker(port: number) {
  let current: { broker: Aedes; server: Server } | null = null;
  const start = async () => {
    const broker = await Aedes.createBroker();
    const server = createServer(broker.handle);
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
    current = { broker, server };
  };
  const stop = async () => {
    const c = current;
    current = null;
    if (!c) return;
    await new Promise<void>((resolve) => c.broker.close(() => resolve()));
    await new Promise<void>((resolve) => c.server.close(() => resolve()));
  };
  await start();
  cleanups.push(stop);
  return { url: `mqtt://127.0.0.1:${port}`, start, stop };
}

/** Debian's PostgreSQL in a temp dir on a fixed port, stoppable and startable again (test-support's removes its data on stop). */
export async function restartablePostgres() {
  const bin = postgresBinDir();
  // Its own temp dir: under root the cluster runs as Debian's postgres user, which must enter it.
  const dir = mkdtempSync(join(tmpdir(), 'aerie-core-shutdown-pg-'));
  cleanups.push(() => Promise.resolve(rmSync(dir, { recursive: true, force: true })));
  const data = join(dir, 'data');
  const ids = process.getuid?.() === 0
    ? { uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })) }
    : undefined;
  if (ids) chownSync(dir, ids.uid, ids.gid);
  execFileSync(join(bin, 'initdb'), ['-D', data, '-U', 'aerie', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'], { ...ids, stdio: 'pipe', cwd: dir });
  const port = await freePort();
  const url = (db: string) => `postgres://aerie@127.0.0.1:${port}/${db}`;
  let child: ChildProcess | null = null;
  const start = async () => {
    child = spawn(join(bin, 'postgres'), ['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dir}`, '-c', 'fsync=on'], { ...ids, cwd: dir, stdio: 'ignore' });
    for (const end = Date.now() + 20_000; ;) {
      const c = new pg.Client({ connectionString: url('postgres') });
      try {
        await c.connect();
        await c.query('SELECT 1');
        return;
      } catch (err) {
        if (Date.now() > end) throw err;
        await new Promise((r) => setTimeout(r, 100));
      } finally {
        await c.end().catch(() => undefined);
      }
    }
  };
  const stop = async () => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGINT'); // fast shutdown: sessions are ended, not waited for
    await exited;
  };
  await start();
  cleanups.push(stop);
  const admin = new pg.Client({ connectionString: url('postgres') });
  await admin.connect();
  await admin.query('CREATE DATABASE core');
  await admin.end();
  return { url: url('core'), start, stop };
}

export interface CoreChild { child: ChildProcess; base: string; lines: string[]; exited: Promise<number | null> }

export function startCore(dataDir: string, httpPort: number, mqttUrl: string, env: Record<string, string> = {}): CoreChild {
  const child = spawn(process.execPath, [MAIN, '--http-port', String(httpPort), '--data-dir', dataDir, '--mqtt-url', mqttUrl], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AERIE_CORE_SHUTDOWN_GRACE_MS: '15000', ...env },
  });
  const lines: string[] = [];
  createInterface({ input: child.stdout }).on('line', (l) => lines.push(l));
  createInterface({ input: child.stderr }).on('line', (l) => lines.push(l));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  cleanups.push(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
  });
  return { child, base: `http://127.0.0.1:${httpPort}`, lines, exited };
}

export type Ready = { status: string; checks: Record<string, string> };
export async function readyz(base: string): Promise<{ code: number; body: Ready } | null> {
  try {
    const res = await fetch(`${base}/readyz`);
    return { code: res.status, body: await res.json() as Ready };
  } catch {
    return null;
  }
}
export async function waitReadyz(base: string, code: number, what: string): Promise<Ready> {
  for (const end = Date.now() + 20_000; ;) {
    const r = await readyz(base);
    if (r?.code === code) return r.body;
    if (Date.now() > end) throw new Error(`timed out waiting for /readyz ${code} (${what}); last ${JSON.stringify(r)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Clients creating deliveries over keep-alive connections until the server is gone. Every
 * outcome is a 202, fastify's 503 for a request arriving on a connection while it closes, or a
 * connection error (refused, closed) — never anything else.
 */
export function load(base: string, clients: number, prefix: string) {
  const accepted: string[] = [];
  const statuses = new Map<number, number>();
  const errors: string[] = [];
  let stopped = false;
  const loops = Array.from({ length: clients }, async (_, k) => {
    for (let n = 0; !stopped; n++) {
      const id = `${prefix}-${k}-${n}`;
      try {
        const res = await fetch(`${base}/api/v1/deliveries/${id}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        await res.arrayBuffer();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 202) accepted.push(id);
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        errors.push(cause?.code ?? cause?.message ?? String(err));
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  });
  return { accepted, statuses, errors, stop: async () => { stopped = true; await Promise.all(loops); } };
}

export const CLEAN_CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE', 'UND_ERR_CLOSED']);

