#!/usr/bin/env node
/**
 * soak — the distributed mode with a big simulated fleet for a bounded time (default 500 drones,
 * 30 minutes; outside the default test command). Every process group is sampled from /proc
 * (RSS, file descriptors, sockets), every node process reports its V8 heap (heap-probe.ts), and a steady trickle of deliveries goes through the gateway;
 * the report is the RSS, heap and descriptor slope of each process after the warm-up, and latency
 * percentiles per window: the gateway's 202 for a create, a GET of the delivery, and how stale
 * the newest DroneStatus in InfluxDB is for sampled drones (publish → broker → telemetry → InfluxDB).
 *
 * Usage: node distributed/dist/soak/soak.js [--smoke] [--drones N] [--minutes M] [--agents-per-process K]
 *   [--deliveries-per-min R] [--stream-hz HZ] [--publish-hz HZ] [--broker-autosave CHANGES] [--window-min M] [--dir DIR]
 * Last line: {"bench":"soak","drones":..,"minutes":..,"rss_slope_mb_per_h_max":..,"heap_slope_mb_per_h_max":..,"fd_growth_max":..,...}
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, request } from 'node:https';
import { startDistributed, type Distributed } from '../launcher.js';
import { sampleGroups } from './proc-sample.js';
import { HEAP_DIR_ENV, type HeapProbe } from './heap-probe.js';
import { percentile, slope } from './stats.js';

const { values } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    drones: { type: 'string' }, minutes: { type: 'string' }, 'agents-per-process': { type: 'string' },
    'deliveries-per-min': { type: 'string' }, dir: { type: 'string' }, 'window-min': { type: 'string' },
    'stream-hz': { type: 'string' }, 'publish-hz': { type: 'string' }, 'broker-autosave': { type: 'string' },
  },
});
const smoke = values.smoke ?? false;
const drones = Number(values.drones ?? (smoke ? 3 : 500));
const minutes = Number(values.minutes ?? (smoke ? 0.3 : 30));
const agentsPerProcess = Number(values['agents-per-process'] ?? (smoke ? 1 : 100));
/** Hundreds of drones share 2 cores here with every service: MAVLink at 2 Hz and a DroneStatus a second each. */
const streamHz = Number(values['stream-hz'] ?? (smoke ? 4 : 2));
const publishHz = Number(values['publish-hz'] ?? (smoke ? 2 : 1));
/**
 * Mosquitto saves its database after this many changes. The launcher's default, 1, keeps queued QoS 1
 * messages across a kill -9 (bench:faults), but at 500 drones the broker's one thread then spends
 * its loop saving: measured 62 % of a core, statuses backing up and clients' keep-alives timing out.
 */
const brokerAutosave = Number(values['broker-autosave'] ?? (smoke ? 1 : 1000));
const deliveriesPerMin = Number(values['deliveries-per-min'] ?? (smoke ? 30 : 60));
/** Latency windows; the first one holds the warm-up and is reported but not compared. */
const windowMs = Number(values['window-min'] ?? (smoke ? 0.1 : 5)) * 60_000;
const warmupMs = smoke ? 5_000 : 3 * 60_000;
const sampleEveryMs = smoke ? 2_000 : 10_000;

interface Window { api202: number[]; apiGet: number[]; staleness: number[] }
const log = (line: string): void => void process.stdout.write(`${line}\n`);

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await fn();
  return [v, performance.now() - t0];
}

/** Age of the newest drone_status point of one drone in InfluxDB (ms), null when it has none. */
async function staleness(d: Distributed, droneId: string): Promise<number | null> {
  const q = `SELECT last(seq) FROM drone_status WHERE drone_id = '${droneId.replace(/'/g, "\\'")}'`;
  const res = await fetch(`${d.influx.url}/query?${new URLSearchParams({ db: d.influx.db, q, epoch: 'ms' }).toString()}`);
  const body = (await res.json()) as { results?: Array<{ series?: Array<{ values: Array<[number, unknown]> }> }> };
  const t = body.results?.[0]?.series?.[0]?.values[0]?.[0];
  return typeof t === 'number' ? Date.now() - t : null;
}

/** The live heap a node process last reported (heap-probe.ts: after its latest mark-compact), null for other processes. */
function heapOf(heapDir: string, pid: number): number | null {
  try {
    const p = JSON.parse(readFileSync(join(heapDir, `${pid}.json`), 'utf8')) as HeapProbe;
    return p.heapAfterGc ?? p.heapUsed; // no major GC yet: the sawtooth's current value
  } catch {
    return null; // not a node process, or not probed yet
  }
}

async function main(): Promise<void> {
  const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'aerie-soak-'));
  // Every node child loads the heap probe: the launcher passes NODE_OPTIONS and this directory down.
  const heapDir = join(dir, 'heap');
  mkdirSync(heapDir, { recursive: true });
  process.env[HEAP_DIR_ENV] = heapDir;
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import=${new URL('./heap-probe.js', import.meta.url).href}`.trim();
  log(`soak: ${drones} drones, ${minutes} min, ${agentsPerProcess} agents per process, MAVLink ${streamHz} Hz, DroneStatus ${publishHz} Hz, broker autosave every ${brokerAutosave} changes, ${deliveriesPerMin} deliveries/min, run dir ${dir}`);
  const d = await startDistributed({ dir, drones, agentsPerProcess, streamHz, publishHz, brokerAutosaveChanges: brokerAutosave, gatewayPort: 0, log: smoke ? () => {} : log });
  // Keep-alive like a real client; the gateway's certificate is signed by the run's own CA.
  const agent = new Agent({ keepAlive: true, ca: readFileSync(d.caFile) });
  const api = (path: string, init: { method: string; body?: string }): Promise<{ status: number }> =>
    new Promise((resolve, reject) => {
      const req = request(`${d.gatewayUrl}${path}`, {
        method: init.method, agent,
        headers: { authorization: `Bearer ${d.apiKey}`, 'content-type': 'application/json' },
      }, (res) => {
        res.resume();
        res.once('end', () => resolve({ status: res.statusCode ?? 0 }));
        res.once('error', reject);
      });
      req.once('error', reject);
      req.end(init.body);
    });

  const t0 = Date.now();
  const windows: Window[] = [];
  const windowOf = (t: number): Window => {
    const k = Math.floor((t - t0) / windowMs);
    while (windows.length <= k) windows.push({ api202: [], apiGet: [], staleness: [] });
    return windows[k]!;
  };
  const samples = new Map<string, Array<{ t: number; rss: number; heap: number | null; fds: number; sockets: number }>>();
  let non2xx = 0;
  let n = 0;
  const endAt = t0 + minutes * 60_000;

  const sampler = setInterval(() => {
    const procs = d.processes();
    const byGroup = sampleGroups(procs.map((p) => p.pid));
    const t = Date.now();
    for (const p of procs) {
      const s = byGroup.get(p.pid);
      if (!s || s.pids === 0) continue;
      const list = samples.get(p.name) ?? [];
      list.push({ t, rss: s.rssBytes, heap: heapOf(heapDir, p.pid), fds: s.fds, sockets: s.sockets });
      samples.set(p.name, list);
    }
  }, sampleEveryMs);

  const demand = setInterval(() => {
    const id = `soak-${t0}-${n++}`;
    const at = Date.now();
    const lat = 47.397 + (n % 7) * 0.0005;
    const body = JSON.stringify({ pickup: { lat, lon: 8.545 }, dropoff: { lat: lat + 0.004, lon: 8.55 } });
    void timed(() => api(`/api/v1/deliveries/${id}`, { method: 'PUT', body }))
      .then(async ([r, ms]) => {
        if (r.status !== 202) return void (non2xx += 1);
        windowOf(at).api202.push(ms);
        const [g, gms] = await timed(() => api(`/api/v1/deliveries/${id}`, { method: 'GET' }));
        if (g.status !== 200) non2xx += 1;
        else windowOf(at).apiGet.push(gms);
      })
      .catch(() => (non2xx += 1));
    const droneId = d.droneIds[n % d.droneIds.length]!;
    void staleness(d, droneId).then((ms) => {
      if (ms !== null) windowOf(at).staleness.push(ms);
    }, () => {});
  }, 60_000 / deliveriesPerMin);

  await new Promise((resolve) => setTimeout(resolve, endAt - Date.now()));
  clearInterval(demand);
  clearInterval(sampler);
  const restarts = Object.fromEntries(d.processes().map((p) => [p.name, p.restarts]));
  await d.stop();
  agent.destroy();
  if (values.dir === undefined) rmSync(dir, { recursive: true, force: true });

  // Slopes over what follows the warm-up: start-up growth (caches, pools, JIT) is not a leak.
  const perProcess = [...samples].map(([name, list]) => {
    const steady = list.filter((s) => s.t - t0 >= warmupMs);
    const use = steady.length >= 2 ? steady : list;
    const hours = (s: { t: number }): number => (s.t - t0) / 3_600_000;
    const first = use[0]!;
    const last = use[use.length - 1]!;
    const heaps = use.filter((s) => s.heap !== null);
    const mb = (b: number): number => +(b / 2 ** 20).toFixed(1);
    return {
      name,
      rss_mb_first: +(first.rss / 2 ** 20).toFixed(1),
      rss_mb_last: +(last.rss / 2 ** 20).toFixed(1),
      rss_mb_max: +(Math.max(...list.map((s) => s.rss)) / 2 ** 20).toFixed(1),
      rss_slope_mb_per_h: +slope(use.map((s) => [hours(s), s.rss / 2 ** 20] as const)).toFixed(2),
      // V8 heap live after the latest major GC (node processes only): flat here with RSS rising = V8
      // reserving more heap (heapTotal) or native memory, not live data accumulating.
      heap_mb_first: heaps.length > 0 ? mb(heaps[0]!.heap!) : null,
      heap_mb_last: heaps.length > 0 ? mb(heaps[heaps.length - 1]!.heap!) : null,
      heap_slope_mb_per_h: heaps.length >= 2 ? +slope(heaps.map((s) => [hours(s), s.heap! / 2 ** 20] as const)).toFixed(2) : null,
      fds_first: first.fds,
      fds_last: last.fds,
      fd_growth: last.fds - first.fds,
      sockets_first: first.sockets,
      sockets_last: last.sockets,
    };
  });
  const pct = (xs: number[], q: number): number => +percentile(xs, q).toFixed(1);
  const perWindow = windows.map((w, k) => ({
    window: k,
    creates: w.api202.length,
    api202_p50_ms: pct(w.api202, 50), api202_p99_ms: pct(w.api202, 99),
    get_p50_ms: pct(w.apiGet, 50), get_p99_ms: pct(w.apiGet, 99),
    staleness_p50_ms: pct(w.staleness, 50), staleness_p99_ms: pct(w.staleness, 99),
  }));
  for (const p of perProcess) log(`process ${JSON.stringify(p)}`);
  for (const w of perWindow) log(`window ${JSON.stringify(w)}`);
  const steadyWindows = perWindow.length > 1 ? perWindow.slice(1) : perWindow;
  const ok = (xs: number[]): number[] => xs.filter((x) => Number.isFinite(x));
  log(JSON.stringify({
    bench: 'soak', drones, minutes, agents_per_process: agentsPerProcess, stream_hz: streamHz, publish_hz: publishHz, broker_autosave: brokerAutosave,
    processes: perProcess.length,
    rss_slope_mb_per_h_max: Math.max(...perProcess.map((p) => p.rss_slope_mb_per_h)),
    heap_slope_mb_per_h_max: Math.max(...perProcess.flatMap((p) => (p.heap_slope_mb_per_h === null ? [] : [p.heap_slope_mb_per_h]))),
    rss_mb_total_last: +perProcess.reduce((a, p) => a + p.rss_mb_last, 0).toFixed(0),
    fd_growth_max: Math.max(...perProcess.map((p) => p.fd_growth)),
    socket_growth_max: Math.max(...perProcess.map((p) => p.sockets_last - p.sockets_first)),
    api202_p99_ms_windows: steadyWindows.map((w) => w.api202_p99_ms),
    get_p99_ms_windows: steadyWindows.map((w) => w.get_p99_ms),
    staleness_p99_ms_windows: steadyWindows.map((w) => w.staleness_p99_ms),
    api202_p99_ms_max: Math.max(...ok(steadyWindows.map((w) => w.api202_p99_ms))),
    creates: perWindow.reduce((a, w) => a + w.creates, 0),
    non2xx,
    restarts: Object.values(restarts).reduce((a, r) => a + r, 0),
  }));
}

main().catch((err: unknown) => {
  process.stderr.write(`soak: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
