import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The public gateway (issue 8): Debian's nginx with deploy/nginx/aerie.conf.template — routing to
 * delivery-core and telemetry, TLS, client rate limits, body limits, correlation ids, JSON access
 * logs. This module renders the template and runs nginx in its own process group.
 */

export const NGINX_BIN = '/usr/sbin/nginx';
// From src/ and from dist/ alike, ../../deploy/nginx is the repository's.
export const GATEWAY_TEMPLATE = fileURLToPath(new URL('../../deploy/nginx/aerie.conf.template', import.meta.url));

/** Stable codes of the gateway module's own failures (the gateway's HTTP answers use GW_ERR_* too). */
export const GatewayErrorCodes = {
  GW_ERR_NGINX_MISSING: 'nginx is not installed',
  GW_ERR_CONFIG: 'the gateway configuration is invalid',
  GW_ERR_START: 'nginx did not start',
} as const;
export type GatewayErrorCode = keyof typeof GatewayErrorCodes;

export class GatewayError extends Error {
  constructor(readonly code: GatewayErrorCode, detail: string) {
    super(`${code}: ${detail}`);
    this.name = 'GatewayError';
  }
}

export interface GatewayOptions {
  /** Prefix dir: nginx.conf, nginx.pid, logs/, temp/ (created). */
  dir: string;
  /** 0 = a free port. */
  port: number;
  /** Listen address (default 127.0.0.1). */
  host?: string;
  tlsCert: string;
  tlsKey: string;
  /** delivery-core instances, host:port. */
  core: string[];
  /** telemetry instances, host:port. */
  telemetry: string[];
  /** Per client address: sustained requests/s and burst (default 100 and 200). */
  rateLimit?: { perSec: number; burst: number };
  /** client_max_body_size (default 16k, delivery-core's own body limit). */
  bodyLimit?: string;
  /** worker_processes (default 1). */
  workers?: number;
  /**
   * The `user` of the worker processes when nginx starts as root (not rendered otherwise: nginx
   * ignores it unprivileged). Default 'root'. Checked on Debian's 1.22: as root with no `user`,
   * the workers run as nobody, and nobody cannot enter a 0700 prefix (a mkdtemp dir) to spool
   * request bodies over client_body_buffer_size or proxied responses into temp/. A deployment
   * runs nginx as a non-root user and leaves this unset.
   */
  user?: string;
  /** The nginx binary (default /usr/sbin/nginx, Debian's). */
  nginxBin?: string;
  trustedBy?: never;
}

export interface RunningGateway {
  port: number;
  /** https://host:port */
  url: string;
  /** The nginx master; its process group is the gateway (master and workers). */
  pid: number;
  accessLog: string;
  errorLog: string;
  /** Resolves with the master's exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** SIGTERM to the group, SIGKILL after a grace; resolves when no process of the group is left. */
  stop(): Promise<void>;
}

const HOST_PORT = /^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9A-Fa-f:]+\]:\d{1,5}$/;
// Paths are pasted into the configuration: nothing nginx would parse as syntax or a variable.
const SAFE_PATH = /^\/[^\s;{}"'$#\\]*$/;
const SIZE = /^\d+[km]?$/;

function check(ok: boolean, detail: string): void {
  if (!ok) throw new GatewayError('GW_ERR_CONFIG', detail);
}

/** The template with every placeholder filled; refuses values that would change its syntax. */
export function renderGatewayConfig(opts: GatewayOptions & { port: number }, template = readFileSync(GATEWAY_TEMPLATE, 'utf8')): string {
  const dir = resolve(opts.dir);
  const host = opts.host ?? '127.0.0.1';
  const rate = opts.rateLimit ?? { perSec: 100, burst: 200 };
  const bodyLimit = opts.bodyLimit ?? '16k';
  const workers = opts.workers ?? 1;
  check(Number.isInteger(opts.port) && opts.port > 0 && opts.port < 65536, `port ${opts.port} must be 1–65535 (0 is resolved by startGateway)`);
  check(/^[0-9.]+$|^[0-9A-Fa-f:]+$|^localhost$/.test(host), `host ${host} must be an IP address`);
  for (const p of [dir, resolve(opts.tlsCert), resolve(opts.tlsKey)]) check(SAFE_PATH.test(p), `path ${JSON.stringify(p)} has characters nginx would parse`);
  check(opts.core.length > 0 && opts.telemetry.length > 0, 'core and telemetry need at least one upstream each');
  for (const u of [...opts.core, ...opts.telemetry]) check(HOST_PORT.test(u), `upstream ${JSON.stringify(u)} must be host:port`);
  check(Number.isInteger(rate.perSec) && rate.perSec > 0 && Number.isInteger(rate.burst) && rate.burst >= 0, 'rateLimit needs an integer perSec > 0 and burst ≥ 0');
  check(SIZE.test(bodyLimit), `bodyLimit ${bodyLimit} must be like 16k or 1m`);
  check(Number.isInteger(workers) && workers > 0 && workers <= 64, 'workers must be 1–64');
  const user = opts.user ?? 'root';
  check(/^[a-z_][a-z0-9_-]*$/.test(user), `user ${user} is not a user name`);
  // Passive health: an instance that refused a connection is skipped for fail_timeout.
  const servers = (list: string[]) => list.map((u) => `        server ${u} max_fails=1 fail_timeout=2s;`).join('\n');
  const values: Record<string, string> = {
    USER: process.getuid?.() === 0 ? `user ${user};` : '# not root: the workers run as the current user (no `user` directive)',
    WORKERS: String(workers),
    PREFIX: dir,
    RATE_PER_SEC: String(rate.perSec),
    BURST: String(rate.burst),
    BODY_LIMIT: bodyLimit,
    CORE_SERVERS: servers(opts.core),
    TELEMETRY_SERVERS: servers(opts.telemetry),
    LISTEN: host.includes(':') ? `[${host}]:${opts.port}` : `${host}:${opts.port}`,
    TLS_CERT: resolve(opts.tlsCert),
    TLS_KEY: resolve(opts.tlsKey),
  };
  const out = template.replace(/\{\{([A-Z_]+)\}\}/g, (_m, name: string) => {
    const v = values[name];
    if (v === undefined) throw new GatewayError('GW_ERR_CONFIG', `template placeholder {{${name}}} has no value`);
    return v;
  });
  return out;
}

function run(bin: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolveRun, reject) => {
    execFile(bin, args, { timeout: 15_000 }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') return reject(new GatewayError('GW_ERR_NGINX_MISSING', `${bin} not found: install Debian's nginx (apt-get install nginx; scripts/test.mjs does it when run as root)`));
      resolveRun({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

async function freePort(host: string): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() => res(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

const accepts = (host: string, port: number) => new Promise<boolean>((res) => {
  const s = connect(port, host);
  s.once('connect', () => {
    s.destroy();
    res(true);
  });
  s.once('error', () => res(false));
});

/** The live pids of process group `pgid` whose command is nginx (read from /proc). */
export function nginxGroupMembers(pgid: number): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // pid (comm) state ppid pgrp …: comm may hold spaces, so split after the last ')'.
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && comm === 'nginx' && fields[0] !== 'Z') found.push(Number(name));
    } catch { /* exited meanwhile */ }
  }
  return found;
}

/**
 * A master killed with SIGKILL leaves its workers holding the port: kill the group recorded by
 * the last start in this dir, but only its nginx processes (the pgid may name someone else's
 * group by now, and then it has no nginx in it).
 */
export async function reapStaleGateway(dir: string): Promise<void> {
  const file = join(dir, 'gateway.pgid');
  if (!existsSync(file)) return;
  const pgid = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pgid) || pgid <= 1) return;
  for (let i = 0; i < 100; i++) {
    const left = nginxGroupMembers(pgid);
    if (left.length === 0) return;
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch { /* gone */ }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Checks the rendered configuration with `nginx -t`, then runs `nginx -p dir -c conf -g 'daemon
 * off;'` detached in its own process group and resolves once the port accepts connections.
 */
export async function startGateway(opts: GatewayOptions): Promise<RunningGateway> {
  const dir = resolve(opts.dir);
  for (const sub of ['logs', 'temp']) mkdirSync(join(dir, sub), { recursive: true });
  await reapStaleGateway(dir);
  const host = opts.host ?? '127.0.0.1';
  const fixedPort = opts.port !== 0;
  // Port 0 is the kernel's pick at bind time and nginx would not say which: pick one here, and
  // try another should something take it before nginx binds it.
  for (let attempt = 0; ; attempt++) {
    const port = fixedPort ? opts.port : await freePort(host);
    const conf = join(dir, 'nginx.conf');
    writeFileSync(conf, renderGatewayConfig({ ...opts, port }));
    const args = ['-p', `${dir}/`, '-c', conf, '-g', 'daemon off;'];
    const test = await run(opts.nginxBin ?? NGINX_BIN, ['-t', '-q', ...args]);
    if (test.code !== 0) throw new GatewayError('GW_ERR_CONFIG', `nginx -t refused ${conf}:\n${test.output.trim()}`);
    try {
      return await launch(opts.nginxBin ?? NGINX_BIN, dir, host, port, args);
    } catch (err) {
      if (!fixedPort && attempt < 3 && err instanceof GatewayError && /Address already in use/.test(err.message)) continue;
      throw err;
    }
  }
}

async function launch(bin: string, dir: string, host: string, port: number, args: string[]): Promise<RunningGateway> {
  const child = spawn(bin, args, { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-8192);
  });
  const spawned = new Promise<void>((res, rej) => {
    child.once('spawn', res);
    child.once('error', (err: NodeJS.ErrnoException) => rej(err.code === 'ENOENT' ? new GatewayError('GW_ERR_NGINX_MISSING', `${bin} not found`) : err));
  });
  await spawned;
  const pid = child.pid!;
  writeFileSync(join(dir, 'gateway.pgid'), `${pid}\n`);
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  const errorLog = join(dir, 'logs', 'error.log');
  const logTail = () => {
    try {
      return readFileSync(errorLog, 'utf8').split('\n').slice(-20).join('\n');
    } catch {
      return '';
    }
  };

  const stop = async (): Promise<void> => {
    const signalGroup = (sig: NodeJS.Signals) => {
      try {
        process.kill(-pid, sig);
      } catch { /* the group is gone */ }
    };
    // SIGTERM: nginx's fast shutdown (SIGQUIT would wait for SSE streams up to worker_shutdown_timeout).
    signalGroup('SIGTERM');
    const grace = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 5000).unref());
    if ((await Promise.race([exited, grace])) === 'timeout') signalGroup('SIGKILL');
    await exited;
    for (let i = 0; i < 100 && nginxGroupMembers(pid).length > 0; i++) {
      signalGroup('SIGKILL');
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  const until = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new GatewayError('GW_ERR_START', `nginx exited (${child.exitCode ?? child.signalCode}) before listening on ${host}:${port}:\n${stderr.trim()}\n${logTail()}`);
    }
    // The master listens before it forks the workers: ready once a worker is there to answer.
    if (await accepts(host, port) && nginxGroupMembers(pid).length >= 2) break;
    if (Date.now() > until) {
      await stop();
      throw new GatewayError('GW_ERR_START', `nginx did not listen on ${host}:${port} within 10 s:\n${stderr.trim()}\n${logTail()}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return { port, url: `https://${urlHost}:${port}`, pid, accessLog: join(dir, 'logs', 'access.log'), errorLog, exited, stop };
}
