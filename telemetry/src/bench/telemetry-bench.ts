#!/usr/bin/env node
// bench:telemetry — points per second through BufferedWriter + the v1 adapter into Debian's
// InfluxDB 1.6.7, against a raw batched line-protocol POST loop into the same server in the same
// run; then InfluxDB stopped under load for 60 s (2 s with --smoke) and started again, with every
// point counted back. Last line: {"bench":"telemetry","value","baseline","ratio","outage_lost"}.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DroneStatus } from '@aerie/contracts';
import { BufferedWriter } from '../domain/buffered-writer.js';
import { statusPoint } from '../domain/measurements.js';
import { toLine } from '../domain/point.js';
import type { Point } from '../domain/point.js';
import { createInfluxV1Writer } from '../adapters/influx-v1-writer.js';
import { openFileSpill } from '../adapters/file-spill.js';
import { createMemoryLogger } from '../adapters/stderr-logger.js';
import { startInfluxDB } from './servers.js';

const smoke = process.argv.includes('--smoke');
const MEASURE_S = smoke ? 1.5 : 10;
const ROUNDS = smoke ? 1 : 3;
const OUTAGE_S = smoke ? 2 : 60;
/** the outage load: 400 drones at 5 Hz */
const OUTAGE_RATE = smoke ? 1000 : 2000;
const BATCH = 5000;
const DRONES = 200;
const T0 = Date.UTC(2026, 0, 1);

/** A deterministic fleet: drone i at 5 Hz, sample k; the same generator feeds both contenders. */
function point(fleet: string, n: number): Point {
  const drone = n % DRONES;
  const k = Math.floor(n / DRONES);
  const s: DroneStatus = {
    v: 1, droneId: `d-${drone}`, bootId: 'b', seq: k, ts: T0 + k * 200, autopilot: 'px4',
    position: { lat: 47.39 + drone * 1e-4, lon: 8.54 + k * 1e-6, altMsl: 500 + (k % 100), altRel: 40 },
    groundSpeed: 12, climbRate: 0, heading: 90, battery: { pct: 100 - (k % 100), voltage: 15.8, current: 11 },
    gps: { fix: 3, satellites: 14, hdop: 0.8 }, armed: true, flightMode: 'MISSION', flightModeRaw: 'AUTO.MISSION',
    landedState: 'IN_AIR', mission: { current: 1, total: 4 }, health: { sensorsHealthy: true, failsafe: false },
    link: { fcConnected: true, fcHeartbeatAgeMs: 100 },
  };
  return statusPoint(s, fleet);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const now = (): number => performance.now() / 1000;

async function query(url: string, q: string): Promise<number> {
  const res = await fetch(`${url}/query?${new URLSearchParams({ db: 'bench', q }).toString()}`, { method: 'POST' });
  const body = (await res.json()) as { results: { series?: { values: unknown[][] }[] }[] };
  return (body.results[0]?.series?.[0]?.values[0]?.[1] as number | undefined) ?? 0;
}

let rawRuns = 0;

async function rawLoop(url: string): Promise<number> {
  const fleet = `raw-${rawRuns++}`;
  const endpoint = `${url}/write?db=bench&precision=ms`;
  let n = 0;
  const t = now();
  while (now() - t < MEASURE_S) {
    const lines: string[] = [];
    for (let i = 0; i < BATCH; i++) lines.push(toLine(point(fleet, n + i)));
    const res = await fetch(endpoint, { method: 'POST', body: lines.join('\n') });
    if (res.status !== 204) throw new Error(`raw loop: InfluxDB answered ${res.status} ${await res.text()}`);
    n += BATCH;
  }
  return n / (now() - t);
}

async function writerLoop(url: string, dir: string, round: number): Promise<number> {
  const w = new BufferedWriter({
    writer: createInfluxV1Writer({ url, database: 'bench' }), spill: openFileSpill(join(dir, `spill-tp-${round}`)),
    logger: createMemoryLogger(), batchSize: BATCH,
  });
  let n = 0;
  const t = now();
  while (now() - t < MEASURE_S) {
    // Sustained, not buffered: the producer waits when the writer is two batches behind. A timer,
    // not setImmediate: spinning would take the CPU the database needs on a small machine.
    if (w.stats().pending >= 2 * BATCH) {
      await sleep(2);
      continue;
    }
    const batch: Point[] = [];
    for (let i = 0; i < 1000; i++) batch.push(point(`writer-${round}`, n + i));
    w.write(batch);
    n += 1000;
  }
  await w.flush();
  const rate = w.stats().written / (now() - t);
  await w.close();
  return rate;
}

async function outage(server: Awaited<ReturnType<typeof startInfluxDB>>, dir: string): Promise<{ produced: number; stored: number; spilled: number }> {
  const logger = createMemoryLogger();
  const w = new BufferedWriter({
    writer: createInfluxV1Writer({ url: server.url, database: 'bench', timeoutMs: 2000 }),
    spill: openFileSpill(join(dir, 'spill-outage')), logger, batchSize: BATCH, flushIntervalMs: 200,
    maxBufferedPoints: 20_000, backoff: { baseMs: 100, maxMs: 2000 },
  });
  let n = 0;
  let running = true;
  const producer = (async () => {
    const t = now();
    while (running) {
      const due = Math.floor((now() - t) * OUTAGE_RATE);
      const batch: Point[] = [];
      for (; n < due; n++) batch.push(point('outage', n));
      w.write(batch);
      await sleep(20);
    }
  })();
  await sleep(smoke ? 500 : 5000);
  await server.stop();
  console.log(`outage: InfluxDB stopped for ${OUTAGE_S} s under ${OUTAGE_RATE} points/s`);
  await sleep(OUTAGE_S * 1000);
  await server.start();
  console.log(`outage: InfluxDB back; writer stats ${JSON.stringify(w.stats())}`);
  await sleep(smoke ? 500 : 5000);
  running = false;
  await producer;
  await w.flush();
  const stats = w.stats();
  await w.close();
  return { produced: n, stored: await query(server.url, "SELECT count(lat) FROM drone_status WHERE fleet = 'outage'"), spilled: stats.spilled };
}

const dir = mkdtempSync(join(tmpdir(), 'aerie-bench-telemetry-'));
const influx = await startInfluxDB();
try {
  await fetch(`${influx.url}/query?q=CREATE+DATABASE+bench`, { method: 'POST' });
  // Warm both paths (JIT, InfluxDB's first shard), then alternate rounds and take each side's
  // median, so neither gets a quieter moment of a shared machine.
  await rawLoop(influx.url);
  const raws: number[] = [];
  const writers: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    if (round % 2 === 0) {
      raws.push(await rawLoop(influx.url));
      writers.push(await writerLoop(influx.url, dir, round));
    } else {
      writers.push(await writerLoop(influx.url, dir, round));
      raws.push(await rawLoop(influx.url));
    }
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const baseline = median(raws);
  const value = median(writers);
  const ratio = value / baseline;
  console.log(`rounds: raw ${raws.map(Math.round).join(', ')}; writer ${writers.map(Math.round).join(', ')} points/s`);
  console.log(`raw batched POST loop: ${Math.round(baseline).toLocaleString('en')} points/s median (batches of ${BATCH}, one request at a time)`);
  console.log(`aerie BufferedWriter:  ${Math.round(value).toLocaleString('en')} points/s median (batches of ${BATCH}, gzip, 2 in flight)`);
  const o = await outage(influx, dir);
  console.log(`outage: produced ${o.produced}, counted back ${o.stored}, ${o.spilled} batches went through the disk spill`);
  console.log(JSON.stringify({ bench: 'telemetry', value: Math.round(value), baseline: Math.round(baseline), ratio: +ratio.toFixed(3), outage_lost: o.produced - o.stored }));
} finally {
  await influx.destroy();
  rmSync(dir, { recursive: true, force: true });
}
