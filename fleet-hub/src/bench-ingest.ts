#!/usr/bin/env node
/**
 * bench:ingest — DroneStatus at QoS 1 from simulated drones (a child process, so publishing does
 * not share the hub's event loop) through the whole pipeline into the telemetry writer, against
 * raw aedes pass-through to one QoS 1 subscriber at the same offered rate, in the same run; then
 * the pipeline again at twice the throughput it just reached, to show it sheds instead of
 * collapsing. Last line: one JSON object with the issue's keys.
 *
 *   node fleet-hub/dist/bench-ingest.js [--smoke] [--rate MSG_PER_S] [--seconds S] [--drones N] [--publishers N]
 *
 * The publishers are a minimal raw MQTT 3.1.1 client (bench/raw-mqtt-publisher.ts), not mqtt.js:
 * on 2 shared cores mqtt.js' own cost starved the fleet and the overload p99 measured it.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { encodeMessage, subscriptions, topics, type DroneStatus } from '@aerie/contracts';
import { FleetHub } from './app.js';
import { hubConfig } from './config.js';
import { MemoryDeviceRegistry } from './adapters/device-registry.js';
import { MemoryTelemetryWriter } from './adapters/memory-telemetry-writer.js';
import { RawMqttPublisher } from './bench/raw-mqtt-publisher.js';

interface PublisherJob { url: string; drones: { id: string; secret: string }[]; rate: number; seconds: number }
/** cpuUsPerMsg, tick gaps and unsent bytes describe the publisher child itself, so a starved fleet shows. */
interface PublisherResult { sent: number; acked: number; seconds: number; cpuUsPerMsg: number; tickGapP50Ms: number; tickGapMaxMs: number; maxUnsentMb: number }

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const publishers = arg('--publishers', 1);

// ---- child: the simulated fleet -------------------------------------------------------------

function status(droneId: string, seq: number): DroneStatus {
  return {
    v: 1, droneId, bootId: 'bench', seq, ts: Date.now(), autopilot: 'px4',
    position: { lat: 47.3977 + seq * 1e-7, lon: 8.5456, altMsl: 518, altRel: 30 },
    groundSpeed: 12, climbRate: 0, heading: 90,
    battery: { pct: 80, voltage: 16.1, current: 9.5 },
    gps: { fix: 3, satellites: 14, hdop: 0.8 },
    armed: true, flightMode: 'MISSION', flightModeRaw: 'AUTO.MISSION', landedState: 'IN_AIR',
    mission: { current: 2, total: 6 },
    health: { sensorsHealthy: true, failsafe: false },
    link: { fcConnected: true, fcHeartbeatAgeMs: 120 },
  };
}

async function publisher(job: PublisherJob): Promise<PublisherResult> {
  const url = new URL(job.url);
  const clients = await Promise.all(job.drones.map((d) => RawMqttPublisher.connect(url.hostname, Number(url.port), {
    clientId: d.id, username: d.id, password: d.secret, keepAliveS: 60,
  })));
  const topicOf = job.drones.map((d) => Buffer.from(topics.status(d.id), 'utf8'));
  const seqs = clients.map(() => 0);
  let sent = 0;
  const started = performance.now();
  const cpu = process.cpuUsage();
  const deadline = started + job.seconds * 1000;
  let next = 0;
  let last = started;
  const gaps: number[] = [];
  let maxUnsent = 0;
  // Paced by the wall clock, so a slow hub does not slow the offer down (no coordinated omission):
  // each tick generates everything due by now, ts = Date.now() at generation, then one write per socket.
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      gaps.push(now - last);
      last = now;
      const due = Math.min(now, deadline);
      const target = Math.floor(((due - started) / 1000) * job.rate);
      for (; sent < target; sent++) {
        const i = next;
        next = (next + 1) % clients.length;
        clients[i]!.publish(topicOf[i]!, encodeMessage(status(job.drones[i]!.id, ++seqs[i]!)));
      }
      let unsent = 0;
      for (const c of clients) {
        c.flush();
        unsent += c.unsentBytes;
      }
      maxUnsent = Math.max(maxUnsent, unsent);
      if (now >= deadline) resolve();
      else setTimeout(tick, 5);
    };
    tick();
  });
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const acked = () => clients.reduce((a, c) => a + c.acked, 0);
  const ackDeadline = performance.now() + 60_000;
  while (acked() < sent && performance.now() < ackDeadline) await new Promise((r) => setTimeout(r, 20));
  const result = { sent, acked: acked(), seconds, cpuUsPerMsg: (used.user + used.system) / Math.max(1, sent), tickGapP50Ms: quantile(gaps, 0.5), tickGapMaxMs: quantile(gaps, 1), maxUnsentMb: maxUnsent / 2 ** 20 };
  await Promise.all(clients.map((c) => c.end()));
  return result;
}

// ---- parent: brokers, hub, measurements ----------------------------------------------------

/**
 * The fleet in `publishers` child processes (drones split between them, each at its share of
 * the rate), so publishing does not share the hub's event loop.
 */
async function runPublisher(job: PublisherJob): Promise<PublisherResult> {
  const n = Math.max(1, Math.min(publishers, job.drones.length));
  const results = await Promise.all(Array.from({ length: n }, async (_, k) => {
    const drones = job.drones.filter((_d, i) => i % n === k);
    const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--publisher'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.send({ ...job, drones, rate: (job.rate * drones.length) / job.drones.length });
    const [result] = (await once(child, 'message')) as [PublisherResult];
    child.kill();
    return result;
  }));
  const sent = results.reduce((a, r) => a + r.sent, 0);
  return {
    sent, acked: results.reduce((a, r) => a + r.acked, 0), seconds: Math.max(...results.map((r) => r.seconds)),
    cpuUsPerMsg: results.reduce((a, r) => a + r.cpuUsPerMsg * r.sent, 0) / Math.max(1, sent),
    tickGapP50Ms: Math.max(...results.map((r) => r.tickGapP50Ms)), tickGapMaxMs: Math.max(...results.map((r) => r.tickGapMaxMs)),
    maxUnsentMb: results.reduce((a, r) => a + r.maxUnsentMb, 0),
  };
}

function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return 0;
  const sorted = Float64Array.from(xs).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!;
}

function p99(xs: number[]): number {
  return quantile(xs, 0.99);
}

function describePublisher(r: PublisherResult): string {
  return `publisher CPU ${r.cpuUsPerMsg.toFixed(1)} µs/msg, tick gap p50 ${r.tickGapP50Ms.toFixed(1)} ms max ${r.tickGapMaxMs.toFixed(0)} ms, unsent max ${r.maxUnsentMb.toFixed(1)} MB`;
}

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (!cond() && performance.now() < end) await new Promise((r) => setTimeout(r, 20));
}

/** CPU time (user + system) this process spent since `from`, in µs: the broker and hub side, not the publishers. */
function cpuSince(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return d.user + d.system;
}

async function rawAedes(drones: PublisherJob['drones'], rate: number, seconds: number): Promise<{ rate: number; delivered: number; cpuUsPerMsg: number; pub: PublisherResult }> {
  const aedes = await Aedes.createBroker({ drainTimeout: 5_000 });
  const server = createServer(aedes.handle);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'bench-sub', protocolVersion: 4, reconnectPeriod: 0 });
  let delivered = 0;
  sub.on('message', () => (delivered += 1));
  await sub.subscribeAsync(subscriptions.allStatus, { qos: 1 });
  const cpu = process.cpuUsage();
  const res = await runPublisher({ url: `mqtt://127.0.0.1:${port}`, drones, rate, seconds });
  await waitFor(() => delivered >= res.acked, 30_000);
  const cpuUsPerMsg = cpuSince(cpu) / Math.max(1, res.acked);
  await sub.endAsync(true);
  await new Promise<void>((r) => aedes.close(() => r()));
  server.close();
  return { rate: delivered / res.seconds, delivered, cpuUsPerMsg, pub: res };
}

interface PipelineRun { rate: number; p99: number; lost: number; shed: number; rssMb: number; offered: number; cpuUsPerMsg: number; pub: PublisherResult }

async function pipeline(registry: MemoryDeviceRegistry, drones: PublisherJob['drones'], rate: number, seconds: number): Promise<PipelineRun> {
  const latencies: number[] = [];
  // The first second warms the JIT and the schema validator up; its latencies are not counted.
  let warmUntil = Infinity;
  const writer = new MemoryTelemetryWriter((batch) => {
    const now = Date.now();
    if (warmUntil === Infinity) warmUntil = now + 1_000;
    for (const s of batch) if (s.ts >= warmUntil) latencies.push(now - s.ts);
  });
  const hub = await FleetHub.start(
    hubConfig({ mqttPort: 0, droneMsgPerSec: 1e9, droneBurst: 1e9 }),
    { registry, writer, log: (line) => console.error(line) },
  );
  let rss = process.memoryUsage.rss();
  const sampler = setInterval(() => (rss = Math.max(rss, process.memoryUsage.rss())), 50);
  const cpu = process.cpuUsage();
  const res = await runPublisher({ url: hub.mqttUrl, drones, rate, seconds });
  const accounted = () => writer.written + hub.counters.shed.statuses + Object.values(hub.counters.rejected).reduce((a, b) => a + b, 0);
  await waitFor(() => accounted() >= res.acked && hub.ingestStats().pendingStatuses === 0, 30_000);
  const cpuUsPerMsg = cpuSince(cpu) / Math.max(1, res.acked);
  clearInterval(sampler);
  const run: PipelineRun = {
    rate: writer.written / res.seconds, p99: p99(latencies), lost: Math.max(0, res.acked - accounted()),
    shed: hub.counters.shed.statuses, rssMb: rss / 2 ** 20, offered: res.sent / res.seconds, cpuUsPerMsg, pub: res,
  };
  await hub.close();
  return run;
}

async function main(): Promise<void> {
  const smoke = process.argv.includes('--smoke');
  const rate = arg('--rate', smoke ? 2_000 : 20_000);
  const seconds = arg('--seconds', smoke ? 2 : 10);
  const droneCount = arg('--drones', smoke ? 10 : 50);
  const registry = new MemoryDeviceRegistry();
  const drones = [];
  for (let i = 0; i < droneCount; i++) {
    const id = `drone-${String(i).padStart(4, '0')}`;
    drones.push({ id, secret: (await registry.add(id, 'drone')).secret });
  }
  const base = await rawAedes(drones, rate, seconds);
  console.log(`raw aedes pass-through: offered ${rate} msg/s → ${base.rate.toFixed(0)} msg/s delivered, broker CPU ${base.cpuUsPerMsg.toFixed(1)} µs/msg; ${describePublisher(base.pub)}`);
  const run = await pipeline(registry, drones, rate, seconds);
  console.log(`pipeline: offered ${run.offered.toFixed(0)} msg/s → ${run.rate.toFixed(0)} msg/s written, p99 ${run.p99.toFixed(0)} ms, shed ${run.shed}, lost ${run.lost}, hub CPU ${run.cpuUsPerMsg.toFixed(1)} µs/msg; ${describePublisher(run.pub)}`);
  const over = await pipeline(registry, drones, Math.max(1, Math.round(2 * run.rate)), seconds);
  console.log(`overload (2× ${run.rate.toFixed(0)}): offered ${over.offered.toFixed(0)} msg/s → ${over.rate.toFixed(0)} msg/s written, p99 ${over.p99.toFixed(0)} ms, shed ${over.shed}, lost ${over.lost}, peak RSS ${over.rssMb.toFixed(0)} MB, hub CPU ${over.cpuUsPerMsg.toFixed(1)} µs/msg; ${describePublisher(over.pub)}`);
  console.log(JSON.stringify({
    bench: 'ingest', value: Math.round(run.rate), baseline: Math.round(base.rate), ratio: Number((run.rate / base.rate).toFixed(3)),
    p99_ms: Math.round(run.p99), lost: run.lost + over.lost, overload_rss_mb: Math.round(over.rssMb),
    overload_p99_ms: Math.round(over.p99), shed: over.shed + run.shed,
  }));
}

if (process.argv.includes('--publisher')) {
  process.once('message', (job: PublisherJob) => {
    publisher(job).then((r) => process.send?.(r), (err: unknown) => {
      console.error(err);
      process.exit(1);
    });
  });
} else {
  main().then(() => process.exit(0), (err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
