#!/usr/bin/env node
/**
 * bench:api — durable PUT/202 throughput and p99 under autocannon against a no-op fastify PUT
 * on the same server in the same run; then kill -9 under load, restart on the same file, and
 * check that every request answered 202 is present and was processed exactly once (one
 * Scheduled and one Completed in its history).
 *
 * Usage: node delivery-core/dist/bench/api.js [--smoke] [--seconds S] [--connections C] [--cpu-prof DIR]
 * (--cpu-prof: the bench servers run under node --cpu-prof, profiles written to DIR on exit.)
 * Last line: {"bench":"api","value":..,"baseline":..,"ratio":..,"p99_ms":..,"crash_lost":..,"crash_duplicated":..,...}
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon, { type Result } from 'autocannon';

const { values } = parseArgs({ options: { smoke: { type: 'boolean', default: false }, seconds: { type: 'string' }, connections: { type: 'string' }, 'cpu-prof': { type: 'string' } } });
/** Seconds of load on each route in all, in `rounds` turns, after `warmSeconds` on each. */
const seconds = Number(values.seconds ?? (values.smoke ? 1 : 10));
const rounds = values.smoke ? 1 : 5;
const warmSeconds = values.smoke ? 1 : 2;
const connections = Number(values.connections ?? 50);
const SERVER = fileURLToPath(new URL('./api-server.js', import.meta.url));
const body = JSON.stringify({ pickup: { lat: 47.399, lon: 8.547 }, dropoff: { lat: 47.401, lon: 8.55 } });
const headers = { 'content-type': 'application/json' };

async function startServer(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const prof = values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof']] : [];
  const child = spawn(process.execPath, [...prof, SERVER, '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
    lines.once('line', (l) => resolve((JSON.parse(l) as { port: number }).port));
  });
  child.removeAllListeners('exit');
  return { child, url: `http://127.0.0.1:${port}` };
}

function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

async function load(url: string, prefix: string, duration: number) {
  let k = 0;
  return autocannon({
    url, connections, duration,
    requests: [{ method: 'PUT', headers, body, setupRequest: (req) => ({ ...req, path: `${prefix}${k++}` }) }],
  });
}

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'aerie-bench-api-'));
  dirs.push(d);
  return d;
};

try {
  // 1. Throughput: both routes warmed, then rounds of the no-op route and the durable PUT in
  // turn, summed: on a shared 2-core VM the speed of the whole box drifts by tens of per cent
  // within seconds, and one long phase of each would measure the drift as much as the routes.
  const a = await startServer(tempDir());
  await load(a.url, '/noop/warm-', warmSeconds);
  await load(a.url, '/api/v1/deliveries/warm-', warmSeconds);
  const baseline = { requests: 0, seconds: 0, p99: 0, non2xx: 0 };
  const durable = { requests: 0, seconds: 0, p99: 0, non2xx: 0 };
  const add = (into: typeof baseline, r: Result) => {
    into.requests += r.requests.total;
    into.seconds += r.duration;
    into.p99 = Math.max(into.p99, r.latency.p99);
    into.non2xx += r.non2xx;
  };
  for (let round = 0; round < rounds; round++) {
    add(baseline, await load(a.url, `/noop/n${round}-`, seconds / rounds));
    add(durable, await load(a.url, `/api/v1/deliveries/b${round}-`, seconds / rounds));
  }
  await stop(a.child, 'SIGTERM');

  // 2. Crash: PUT under load from `connections` clients, kill -9 mid-stream, restart, audit.
  const dir = tempDir();
  const b = await startServer(dir);
  const acked: string[] = [];
  let running = true;
  const client = async (w: number) => {
    for (let i = 0; running; i++) {
      const id = `crash-${w}-${i}`;
      try {
        const res = await fetch(`${b.url}/api/v1/deliveries/${id}`, { method: 'PUT', headers, body });
        if (res.status === 202) acked.push(id);
        await res.arrayBuffer();
      } catch {
        return; // the server died under us: this request was never answered 202
      }
    }
  };
  const clients = Array.from({ length: connections }, (_, w) => client(w));
  await new Promise((r) => setTimeout(r, Math.max(500, (seconds * 1000) / 2)));
  await stop(b.child, 'SIGKILL');
  running = false;
  await Promise.all(clients);

  const c = await startServer(dir);
  let lost = 0;
  let duplicated = 0;
  let unprocessed = 0;
  // A bound against hangs: the scheduler commits a pair only after holding it (scheduling.holdMs),
  // so a backlog of thousands takes a minute or two to fly.
  const deadline = Date.now() + 300_000;
  for (const id of acked) {
    for (;;) {
      const res = await fetch(`${c.url}/api/v1/deliveries/${id}`);
      if (res.status === 404) { lost++; break; }
      const d = (await res.json()) as { stage: string; stageHistory: { stage: string }[] };
      if (d.stage === 'Completed' || Date.now() > deadline) {
        const count = (s: string) => d.stageHistory.filter((h) => h.stage === s).length;
        if (count('Requested') > 1 || count('Scheduled') > 1 || count('Completed') > 1) duplicated++;
        if (count('Completed') === 0) {
          unprocessed++;
          if (unprocessed <= 5) console.log(`unprocessed ${id}: ${d.stage}, history ${d.stageHistory.map((h) => h.stage).join(' > ')}`);
        }
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  await stop(c.child, 'SIGTERM');

  const value = Math.round(durable.requests / durable.seconds);
  const base = Math.round(baseline.requests / baseline.seconds);
  console.log(`durable PUT ${value} req/s (p99 ${durable.p99} ms, non-2xx ${durable.non2xx}); no-op PUT ${base} req/s (p99 ${baseline.p99} ms); ${rounds} rounds of each; `
    + `crash: ${acked.length} answered 202 before kill -9, ${lost} lost, ${duplicated} duplicated, ${unprocessed} unprocessed after restart`);
  console.log(JSON.stringify({
    bench: 'api', value, baseline: base, ratio: Math.round((value / base) * 1000) / 1000, p99_ms: durable.p99,
    crash_lost: lost, crash_duplicated: duplicated, crash_acked: acked.length, crash_unprocessed: unprocessed, non2xx: durable.non2xx + baseline.non2xx,
  }));
} finally {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
