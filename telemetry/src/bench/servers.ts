import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, influxConf } from '@aerie/local-engines';

/**
 * Debian's time-series servers on loopback, for the tests (through test-support/) and for
 * bench:telemetry. Each runs in its own temp dir on free ports; stop() keeps the data so start()
 * can bring the same server back (the outage half of the benchmark), destroy() removes it.
 */
export interface RunningServer {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

function binary(path: string, pkg: string): string {
  // A suite that needs the server fails when it is missing; `npm test` installs it first.
  if (!existsSync(path)) throw new Error(`${path} not found: install Debian's ${pkg} package (npm test does this when run as root)`);
  return path;
}

async function launch(name: string, bin: string, args: string[], ready: () => Promise<boolean>): Promise<{ child: ChildProcess; stderr: () => string }> {
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const until = Date.now() + 20_000;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}\n${stderr}`);
    if (await ready().catch(() => false)) return { child, stderr: () => stderr };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`${name} did not become ready\n${stderr}`);
}

function server(name: string, port: number, dir: string, run: () => Promise<ChildProcess>): Promise<RunningServer> {
  let child: ChildProcess | null = null;
  const stop = async (): Promise<void> => {
    const c = child;
    child = null;
    if (c === null || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await exited;
  };
  const start = async (): Promise<void> => {
    if (child === null) child = await run();
  };
  return start().then(() => ({
    port, url: `http://127.0.0.1:${port}`, dir, stop, start,
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  })).catch((err: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw err instanceof Error ? err : new Error(`${name}: ${String(err)}`);
  });
}

/** InfluxDB 1.x (Debian: 1.6.7) with `/write` and InfluxQL `/query`, no auth, no usage reporting. */
export async function startInfluxDB(): Promise<RunningServer> {
  const bin = binary('/usr/bin/influxd', 'influxdb');
  const dir = mkdtempSync(join(tmpdir(), 'aerie-influxdb-'));
  const [http, rpc] = [await freePort(), await freePort()];
  writeFileSync(join(dir, 'influxdb.conf'), influxConf({ dir, httpPort: http, rpcPort: rpc }));
  const ping = async (): Promise<boolean> => (await fetch(`http://127.0.0.1:${http}/ping`)).status === 204;
  return server('influxd', http, dir, async () => (await launch('influxd', bin, ['-config', join(dir, 'influxdb.conf')], ping)).child);
}

/** VictoriaMetrics, which takes InfluxDB line protocol on the v2 write API (`/api/v2/write`). */
export async function startVictoriaMetrics(): Promise<RunningServer> {
  const bin = binary('/usr/bin/victoria-metrics', 'victoria-metrics');
  const dir = mkdtempSync(join(tmpdir(), 'aerie-victoria-'));
  const http = await freePort();
  const args = [
    `-httpListenAddr=127.0.0.1:${http}`, `-storageDataPath=${join(dir, 'data')}`, '-loggerLevel=ERROR',
    // Same timestamp, same series: keep one sample, as InfluxDB overwrites (the replay rule).
    '-dedup.minScrapeInterval=1ms', '-search.latencyOffset=0s',
  ];
  const health = async (): Promise<boolean> => (await fetch(`http://127.0.0.1:${http}/health`)).ok;
  return server('victoria-metrics', http, dir, async () => (await launch('victoria-metrics', bin, args, health)).child);
}
