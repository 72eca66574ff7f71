#!/usr/bin/env node
/**
 * bench:sim — how many simulated vehicles one process keeps in real time with 10 Hz telemetry,
 * each on its own UDP socket, and the CPU each costs.
 *
 * Two phases in the same run, each sending to a sink in a child process (so the receiving end
 * costs this process nothing, and what arrives is counted, not assumed):
 *   baseline  N bare dgram sockets on the fleet's scheduler, each sending a pre-encoded datagram
 *             of the same bytes a vehicle sends (the six 10 Hz stream messages; heartbeat and
 *             HOME_POSITION once a second). This is the floor: the syscalls and libuv work no
 *             simulator can avoid with a socket per vehicle. node-mavlink's encode loop alone
 *             would leave out the sockets, which are most of the cost.
 *   sim       N vehicles from startSimFleet, real time (system clock), streamHz 10, every one
 *             armed and flying a mission (physics, mission runner and battery all running).
 *
 * "Real time" holds when the sim phase's scheduler ran ≥ 95 % of its 100 ms ticks, the sink got
 * ≥ 95 % of the datagrams due, and the event loop's p99 delay stayed under one tick (100 ms).
 *
 * Usage: node simulator/dist/bench/sim-bench.js [--vehicles N (1000)] [--seconds S (15)] [--smoke]
 * Last line: {"bench":"sim","vehicles":N,"hz":10,"realtime":bool,"cpu_per_vehicle_pct":x, ...}
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { systemClock } from '@aerie/contracts';
import { MavEncoder } from '@aerie/mavlink';
import { startSimFleet } from '../fleet.js';
import { SimScheduler } from '../domain/scheduler.js';
import { telemetryMessage } from '../adapters/mavlink-telemetry.js';
import { Vehicle } from '../domain/vehicle.js';
import type { TelemetryStream } from '../ports.js';
import type { VehicleInput } from '../domain/types.js';
import { displace } from '../domain/geo.js';

const HZ = 10;
const TICK_MS = 1000 / HZ;
/** Both phases spread their sockets over ten 10 ms slots, as a real-time aerie-sim does. */
const SLOTS = 10;
const HOME = { lat: 47.3977, lon: 8.5456, altMsl: 488 };
const FAST: readonly TelemetryStream[] = ['global-position', 'sys-status', 'gps-raw', 'vfr-hud', 'extended-sys-state', 'mission-current'];

interface SinkCounts {
  datagrams: number;
  bytes: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { smoke: { type: 'boolean', default: false }, vehicles: { type: 'string' }, seconds: { type: 'string' } } });
  const vehicles = Number(values.vehicles ?? (values.smoke ? 50 : 1000));
  const seconds = Number(values.seconds ?? (values.smoke ? 1.5 : 15));
  if (!(Number.isInteger(vehicles) && vehicles >= 1 && vehicles <= 5000) || !(seconds > 0)) throw new Error('--vehicles 1–5000 and --seconds > 0');

  const sink = await Sink.start();
  const datagram = sampleDatagrams();
  console.log(`vehicles: ${vehicles}, ${HZ} Hz streams, ${seconds} s per phase, datagram ${datagram.fast.length} B (+${datagram.slow.length} B once a second)`);

  const baseline = await measure('baseline', sink, seconds, vehicles, async () => bareSockets(vehicles, sink.port, datagram));
  const sim = await measure('sim', sink, seconds, vehicles, async () => simFleet(vehicles, sink.port));
  await sink.stop();

  const ratio = sim.cpuPct / baseline.cpuPct;
  const realtime = sim.tickRatio >= 0.95 && sim.deliveredRatio >= 0.95 && sim.p99LagMs < TICK_MS;
  console.log(`baseline (bare sockets): ${fmt(baseline)}`);
  console.log(`sim (flying vehicles):   ${fmt(sim)}`);
  console.log(`CPU ratio sim / bare sockets: ${ratio.toFixed(2)}×; real time: ${realtime}`);
  console.log(JSON.stringify({
    bench: 'sim', vehicles, hz: HZ, realtime, cpu_per_vehicle_pct: +(sim.cpuPct / vehicles).toFixed(4),
    baseline_cpu_per_vehicle_pct: +(baseline.cpuPct / vehicles).toFixed(4), cpu_ratio_vs_bare_sockets: +ratio.toFixed(2),
    cpu_pct: +sim.cpuPct.toFixed(1), event_loop_utilization: +sim.elu.toFixed(3), p99_lag_ms: +sim.p99LagMs.toFixed(1),
    ticks_ratio: +sim.tickRatio.toFixed(3), delivered_ratio: +sim.deliveredRatio.toFixed(3),
    est_max_vehicles: Math.floor((vehicles * 0.9) / Math.max(sim.elu, 1e-6)), seconds,
    // Other work on the machine starves the event loop (busy but not on a CPU): read figures with it.
    load_avg_1m: +loadavg()[0]!.toFixed(2), date: new Date().toISOString().slice(0, 10),
  }));
}

interface Phase {
  cpuPct: number;
  elu: number;
  p99LagMs: number;
  tickRatio: number;
  deliveredRatio: number;
  datagramsPerSec: number;
}

const fmt = (p: Phase): string =>
  `CPU ${p.cpuPct.toFixed(1)} % of a core, event loop ${(p.elu * 100).toFixed(1)} % busy, p99 lag ${p.p99LagMs.toFixed(1)} ms, ` +
  `${Math.round(p.datagramsPerSec).toLocaleString('en')} datagrams/s received (${(p.deliveredRatio * 100).toFixed(1)} %), ticks ${(p.tickRatio * 100).toFixed(1)} %`;

interface Running {
  ticks(): number;
  stop(): Promise<void>;
}

async function measure(name: string, sink: Sink, seconds: number, n: number, start: () => Promise<Running>): Promise<Phase> {
  const running = await start();
  await sleep(1000); // settle: JIT, sockets, vehicles past takeoff
  await sink.reset();
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const ticks0 = running.ticks();
  await sleep(seconds * 1000);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0).utilization;
  const ticks = running.ticks() - ticks0;
  lag.disable();
  const counts = await sink.read();
  await running.stop();
  const due = (wallMs / TICK_MS) * n;
  const phase: Phase = {
    cpuPct: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
    elu,
    p99LagMs: lag.percentile(99) / 1e6,
    tickRatio: ticks / (wallMs / TICK_MS),
    deliveredRatio: counts.datagrams / due,
    datagramsPerSec: counts.datagrams / (wallMs / 1000),
  };
  console.log(`${name}: done`);
  return phase;
}

/** The bytes one vehicle sends: the fast-stream datagram, and the once-a-second extras. */
function sampleDatagrams(): { fast: Buffer; slow: Buffer } {
  const v = new Vehicle({ sysid: 1, home: HOME, clock: systemClock, emit: () => undefined });
  const s = v.snapshot();
  const enc = new MavEncoder({ sysid: 1, compid: 1 });
  return {
    fast: Buffer.concat(FAST.map((f) => enc.encode(telemetryMessage(f, s)))),
    slow: Buffer.concat((['heartbeat', 'home-position'] as const).map((f) => enc.encode(telemetryMessage(f, s)))),
  };
}

async function bareSockets(n: number, port: number, d: { fast: Buffer; slow: Buffer }): Promise<Running> {
  const sockets: Socket[] = [];
  for (let i = 0; i < n; i++) {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    s.on('error', () => undefined);
    sockets.push(s);
  }
  const withSlow = Buffer.concat([d.slow, d.fast]);
  // The same scheduler the fleet uses, with nothing to do but send the bytes.
  const scheduler = new SimScheduler(systemClock, { tickMs: TICK_MS, slots: SLOTS });
  const removals = sockets.map((s) => {
    let n = 0;
    return scheduler.add(() => s.send(n++ % HZ === 0 ? withSlow : d.fast, port, '127.0.0.1'));
  });
  return {
    ticks: () => scheduler.stats.ticks,
    stop: async () => {
      for (const remove of removals) remove();
      await Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
}

async function simFleet(n: number, port: number): Promise<Running> {
  const scheduler = new SimScheduler(systemClock, { tickMs: TICK_MS, slots: SLOTS });
  const fleet = await startSimFleet({
    count: n, home: HOME, spacingM: 5, clock: systemClock, streamHz: HZ, scheduler,
    peerFor: () => ({ address: '127.0.0.1', port }),
  });
  // Every vehicle flies: upload a 4 km out-and-back mission, arm, start it.
  fleet.vehicles.forEach((v, i) => {
    const from = { sysid: 255, compid: 190 };
    const home = v.snapshot().home;
    const far = displace(home, { northM: 2000 * Math.cos(i), eastM: 2000 * Math.sin(i) });
    const e7 = (x: number): number => Math.round(x * 1e7);
    const items = [
      { command: 22, x: 0, y: 0, z: 30 },
      { command: 16, x: e7(far.lat), y: e7(far.lon), z: 30 },
      { command: 16, x: e7(home.lat), y: e7(home.lon), z: 30 },
      { command: 21, x: e7(home.lat), y: e7(home.lon), z: 0 },
    ].map((it, seq) => ({ seq, frame: 6, param1: 0, param2: 0, param3: 0, param4: Number.NaN, autocontinue: 1, ...it }));
    const t = v.sysid;
    const send = (input: VehicleInput): void => v.inject(input);
    send({ kind: 'mission-count', from, targetSystem: t, count: items.length, missionType: 0 });
    for (const item of items) send({ kind: 'mission-item', from, targetSystem: t, missionType: 0, item });
    send({ kind: 'command-long', from, targetSystem: t, command: 400, params: [1], confirmation: 0 });
    send({ kind: 'command-long', from, targetSystem: t, command: 300, params: [0], confirmation: 0 });
  });
  return { ticks: () => scheduler.stats.ticks, stop: () => fleet.stop() };
}

class Sink {
  private constructor(private readonly child: ChildProcess, readonly port: number) {}

  static async start(): Promise<Sink> {
    const child = fork(new URL(import.meta.url).pathname, ['--sink'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (m: { port: number }) => resolve(m.port));
      child.once('error', reject);
    });
    return new Sink(child, port);
  }

  private ask<T>(msg: string): Promise<T> {
    return new Promise((resolve) => {
      this.child.once('message', (m: T) => resolve(m));
      this.child.send(msg);
    });
  }

  async reset(): Promise<void> {
    await this.ask('reset');
  }

  async read(): Promise<SinkCounts> {
    return (await this.ask<{ counts: SinkCounts }>('read')).counts;
  }

  async stop(): Promise<void> {
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.send('exit');
    await exited;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// Entry: the sink when forked as one, else the benchmark (at the end: classes above are initialised).
if (process.argv.includes('--sink')) {
  const sock = createSocket('udp4');
  const counts: SinkCounts = { datagrams: 0, bytes: 0 };
  sock.on('message', (m) => {
    counts.datagrams += 1;
    counts.bytes += m.length;
  });
  sock.bind(0, '127.0.0.1', () => {
    // Room for a whole tick of datagrams, so the sink's buffer is never what drops them.
    sock.setRecvBufferSize(4 * 1024 * 1024);
    process.send?.({ port: sock.address().port });
  });
  process.on('message', (msg: string) => {
    if (msg === 'reset') {
      counts.datagrams = 0;
      counts.bytes = 0;
      process.send?.({ reset: true });
    } else if (msg === 'read') process.send?.({ counts });
    else if (msg === 'exit') sock.close(() => process.exit(0));
  });
} else {
  await main();
}
