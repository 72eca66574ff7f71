#!/usr/bin/env node
/**
 * bench:agent — the edge agent as a separate process fed 50 Hz of MAVLink over real UDP by a
 * scripted flight controller (in flight, so DroneStatus goes out at 5 Hz): its steady-state RSS
 * and CPU share of one core. Then, in the same run, MAVLink decode throughput of the agent's own
 * pipeline (FrameDecoder → hand-written codec → FC telemetry mapping, per datagram: every packet
 * CRC-checked, the messages the agent uses decoded and mapped, the rest skipped, as live) against
 * bare node-mavlink parsing (MavLinkPacketSplitter → MavLinkPacketParser → protocol.data) over
 * the same packets from arducopter-flight.tlog. The agent process itself never loads node-mavlink;
 * this parent does, to feed it and for the baseline.
 *
 * The agent process runs as operators run it: the esbuild single-file bundle (README, "Bundle and
 * service"), built here from agent-child.js with the same options; --unbundled runs the tsc
 * output module by module instead (about 20 MB more RSS: every module of mqtt.js, ajv and
 * TypeBox kept as its own compiled unit).
 *
 * Usage: node edge-agent/dist/bench/agent.js [--smoke] [--seconds S] [--unbundled]
 * Last line: {"bench":"agent","rss_mb":..,"cpu_pct":..,"value":..,"baseline":..,"ratio":..}
 * (value and baseline in packets/s). Targets: rss_mb < 60, cpu_pct < 2, ratio ≥ 0.8.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Readable } from 'node:stream';
import { common, minimal, MavLinkPacketParser, MavLinkPacketSplitter, type MavLinkData, type MavLinkPacket } from 'node-mavlink';
import { FrameDecoder, MavLink, REGISTRY, TlogReader, UdpEndpoint, crcExtraOf, decodeMessage, udpTransport } from '@aerie/mavlink';
import { FcTelemetryMapper } from '../adapters/mavlink-telemetry.js';

const { values } = parseArgs({ options: { smoke: { type: 'boolean', default: false }, seconds: { type: 'string' }, unbundled: { type: 'boolean', default: false } } });
const seconds = Number(values.seconds ?? (values.smoke ? 2 : 30));
const warmup = values.smoke ? 1 : 5;

// ---- 1. the agent process under 50 Hz of MAVLink ----
const childEntry = fileURLToPath(new URL('./agent-child.js', import.meta.url));
const bundleDir = mkdtempSync(join(tmpdir(), 'aerie-bench-agent-'));
let childPath = childEntry;
if (!values.unbundled) {
  childPath = join(bundleDir, 'agent-child.mjs');
  // The options of edge-agent's `npm run bundle`. Identifiers are not minified: measured here, a
  // fully minified bundle costs ~13 MB more RSS at load (V8 compiles more of it eagerly).
  await build({
    entryPoints: [childEntry], bundle: true, platform: 'node', target: 'node20', format: 'esm', minifyWhitespace: true, minifySyntax: true, external: ['serialport'],
    banner: { js: 'import{createRequire as __cr}from"module";const require=__cr(import.meta.url);' }, outfile: childPath, logLevel: 'warning',
  });
}
const child = fork(childPath, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
const next = <T>(): Promise<T> => new Promise((resolve) => child.once('message', (m) => resolve(m as T)));
const { fcPort } = await next<{ fcPort: number }>();
const endpoint = await UdpEndpoint.open({ port: 0, peer: { address: '127.0.0.1', port: fcPort } });
endpoint.on('error', () => undefined);
const fc = new MavLink(udpTransport(endpoint), { sysid: 1, compid: 1 });

function inFlightMix(t: number): MavLinkData[] {
  const hb = Object.assign(new minimal.Heartbeat(), {
    type: minimal.MavType.QUADROTOR, autopilot: minimal.MavAutopilot.ARDUPILOTMEGA, customMode: 3,
    baseMode: minimal.MavModeFlag.CUSTOM_MODE_ENABLED | minimal.MavModeFlag.SAFETY_ARMED, systemStatus: minimal.MavState.ACTIVE, mavlinkVersion: 3,
  });
  const pos = Object.assign(new common.GlobalPositionInt(), { lat: 473977000 + t, lon: 85456000 + t, alt: 520000, relativeAlt: 30000, vx: 500, vy: 20, vz: -5, hdg: 9000 });
  const hud = Object.assign(new common.VfrHud(), { groundspeed: 5, airspeed: 5, heading: 90, climb: 0.05, alt: 520, throttle: 40 });
  const att = Object.assign(new common.Attitude(), { roll: 0.01, pitch: -0.02, yaw: 1.57 });
  const sys = Object.assign(new common.SysStatus(), { voltageBattery: 15800, currentBattery: 1200, batteryRemaining: 76 });
  const gps = Object.assign(new common.GpsRawInt(), { fixType: 3, satellitesVisible: 14, eph: 80 });
  const ext = Object.assign(new common.ExtendedSysState(), { landedState: common.MavLandedState.IN_AIR });
  return [hb, pos, hud, att, sys, gps, ext];
}

// 50 messages per second: every 20 ms one of the mix; HEARTBEAT once a second.
let tick = 0;
const feeder = setInterval(() => {
  const mix = inFlightMix(tick);
  fc.send(tick % 50 === 0 ? mix[0]! : mix[1 + (tick % 6)]!);
  tick++;
}, 20);
await new Promise((r) => setTimeout(r, warmup * 1000));
child.send('mark');
await next();
await new Promise((r) => setTimeout(r, seconds * 1000));
child.send('report');
const report = await next<{ rss: number; cpuUs: number; wallUs: number; statuses: number; fc: Record<string, number> }>();
clearInterval(feeder);
child.send('stop');
await fc.close();
rmSync(bundleDir, { recursive: true, force: true });
const rssMb = report.rss / 1024 / 1024;
const cpuPct = (report.cpuUs / report.wallUs) * 100;
console.log(`agent process (${values.unbundled ? 'tsc output, unbundled' : 'esbuild bundle, as shipped'}): ${seconds} s steady state after ${warmup} s warm-up, ${tick} MAVLink packets sent at 50 Hz`);
console.log(`  RSS ${rssMb.toFixed(1)} MB, CPU ${cpuPct.toFixed(2)} % of one core, ${report.statuses} DroneStatus out (${(report.statuses / (report.wallUs / 1e6)).toFixed(1)} Hz)`);

// ---- 2. decode throughput, agent pipeline vs bare node-mavlink, same packets ----
const tlog = readFileSync(fileURLToPath(new URL('../../../../shared/data/arducopter-flight.tlog', import.meta.url)));
const reader = new TlogReader(crcExtraOf);
const packets = [...reader.push(tlog), ...reader.end()].map((r) => r.frame.raw);
const stream = Buffer.concat(packets);
const parts: Buffer[] = [];
for (let i = 0; i < stream.length; i += 4096) parts.push(stream.subarray(i, i + 4096));

function agentOnce(): number {
  const decoder = new FrameDecoder(crcExtraOf);
  const mapper = new FcTelemetryMapper();
  let n = 0;
  for (const p of packets) {
    for (const f of decoder.pushDatagram(p)) {
      const m = decodeMessage(f);
      if (m) mapper.map(m, f);
      n++;
    }
  }
  return n;
}

async function baselineOnce(): Promise<number> {
  let n = 0;
  const parsed = Readable.from(parts).pipe(new MavLinkPacketSplitter()).pipe(new MavLinkPacketParser());
  for await (const p of parsed as AsyncIterable<MavLinkPacket>) {
    const clazz = REGISTRY[p.header.msgid];
    if (clazz) {
      p.protocol.data(p.payload, clazz);
      n++;
    }
  }
  return n;
}

async function measure(once: () => number | Promise<number>, s: number): Promise<number> {
  let total = 0;
  const start = process.hrtime.bigint();
  let elapsed: number;
  do {
    total += await once();
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  } while (elapsed < s);
  return total / elapsed;
}

const decodeSeconds = values.smoke ? 0.5 : 5;
await measure(agentOnce, decodeSeconds / 5);
await measure(baselineOnce, decodeSeconds / 5);
const value = await measure(agentOnce, decodeSeconds);
const baseline = await measure(baselineOnce, decodeSeconds);
console.log(`decode: agent pipeline ${Math.round(value).toLocaleString('en')} packets/s vs node-mavlink ${Math.round(baseline).toLocaleString('en')} packets/s`);
console.log(JSON.stringify({ bench: 'agent', rss_mb: +rssMb.toFixed(1), cpu_pct: +cpuPct.toFixed(2), value: Math.round(value), baseline: Math.round(baseline), ratio: +(value / baseline).toFixed(3) }));
