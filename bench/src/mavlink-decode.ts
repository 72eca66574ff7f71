#!/usr/bin/env node
/**
 * bench:mavlink — decoding a real telemetry log: Aerie's FrameDecoder + decodeFrame against the
 * baseline of node-mavlink's own MavLinkPacketSplitter → MavLinkPacketParser over the same bytes
 * in the same run. Prints packets/s of each, their ratio, and how many packets each recovered
 * (node-mavlink's splitter loses packets cut by a read boundary).
 *
 * Usage: node bench/dist/mavlink-decode.js [--smoke] [--file PATH] [--seconds S]
 * The last line is one JSON object: { bench, file, aeriePacketsPerSec, baselinePacketsPerSec,
 * ratio, aeriePackets, baselinePackets, date }.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Readable } from 'node:stream';
import { MavLinkPacketParser, MavLinkPacketSplitter, type MavLinkPacket } from 'node-mavlink';
import { FrameDecoder, REGISTRY, crcExtraOf, decodeFrame } from '@aerie/mavlink';

const { values } = parseArgs({ options: { smoke: { type: 'boolean', default: false }, file: { type: 'string' }, seconds: { type: 'string' } } });
const file = values.file ?? fileURLToPath(new URL('../../../shared/data/arducopter-flight.tlog', import.meta.url));
const seconds = Number(values.seconds ?? (values.smoke ? 0.5 : 5));
const bytes = readFileSync(file);
const CHUNK = 4096;

function chunks(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += CHUNK) out.push(buf.subarray(i, i + CHUNK));
  return out;
}
const parts = chunks(bytes);

function aerieOnce(): number {
  const decoder = new FrameDecoder(crcExtraOf);
  let n = 0;
  for (const c of parts) for (const f of decoder.push(c)) if (decodeFrame(f)) n++;
  return n;
}

async function baselineOnce(): Promise<number> {
  let n = 0;
  const reader = Readable.from(parts).pipe(new MavLinkPacketSplitter()).pipe(new MavLinkPacketParser());
  for await (const p of reader as AsyncIterable<MavLinkPacket>) {
    const clazz = REGISTRY[p.header.msgid];
    if (clazz) {
      p.protocol.data(p.payload, clazz);
      n++;
    }
  }
  return n;
}

async function measure(once: () => number | Promise<number>): Promise<{ perSec: number; packets: number }> {
  let packets: number;
  let rounds = 0;
  const start = process.hrtime.bigint();
  let elapsed: number;
  do {
    packets = await once();
    rounds++;
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  } while (elapsed < seconds);
  return { perSec: (packets * rounds) / elapsed, packets };
}

// Alternate and warm up both, so neither gets the JIT's or the cache's favour.
await measure(aerieOnce);
await measure(baselineOnce);
const aerie = await measure(aerieOnce);
const baseline = await measure(baselineOnce);
const ratio = aerie.perSec / baseline.perSec;
console.log(`file: ${file} (${bytes.length} bytes, read in ${CHUNK}-byte chunks)`);
console.log(`aerie FrameDecoder:    ${Math.round(aerie.perSec).toLocaleString('en')} packets/s, ${aerie.packets} packets recovered`);
console.log(`node-mavlink baseline: ${Math.round(baseline.perSec).toLocaleString('en')} packets/s, ${baseline.packets} packets recovered`);
console.log(`ratio (aerie / baseline): ${ratio.toFixed(2)}×`);
console.log(JSON.stringify({
  bench: 'mavlink-decode', file: file.split('/').pop(), aeriePacketsPerSec: Math.round(aerie.perSec), baselinePacketsPerSec: Math.round(baseline.perSec),
  ratio: +ratio.toFixed(3), aeriePackets: aerie.packets, baselinePackets: baseline.packets, date: new Date().toISOString().slice(0, 10),
}));
