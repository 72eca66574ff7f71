import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MSG_ID_MAGIC_NUMBER, x25crc } from 'mavlink-mappings';
import { MavLinkPacketSplitter } from 'node-mavlink';
import { minimal } from 'node-mavlink';
import { MavEncoder, TlogReader, crcExtraOf, type TlogRecord } from '../src/index.js';

const data = (name: string): Buffer => readFileSync(fileURLToPath(new URL(`../../../shared/data/${name}`, import.meta.url)));
const LOGS = ['arducopter-flight.tlog', 'arduplane-vtol-sitl.tlog', 'ardusub-v2.tlog'];

function readAll(buf: Buffer, chunk = buf.length): { records: TlogRecord[]; reader: TlogReader } {
  const reader = new TlogReader(crcExtraOf);
  const records: TlogRecord[] = [];
  for (let i = 0; i < buf.length; i += chunk) records.push(...reader.push(buf.subarray(i, i + chunk)));
  records.push(...reader.end());
  return { records, reader };
}

/**
 * Independent count: every offset where a CRC-valid packet starts (mavlink-mappings' CRC and
 * CRC_EXTRA table), taken greedily, ignoring the tlog's record structure altogether.
 */
function bruteForcePackets(buf: Buffer): Buffer[] {
  const found: Buffer[] = [];
  let p = 0;
  while (p < buf.length) {
    const stx = buf[p];
    if (stx === 0xfe || stx === 0xfd) {
      const v2 = stx === 0xfd;
      const end = p + (v2 ? 10 : 6) + (buf[p + 1] ?? 0) + 2;
      const sig = v2 && ((buf[p + 2] ?? 0) & 1) !== 0 ? 13 : 0;
      const magic = (MSG_ID_MAGIC_NUMBER as Record<number, number | undefined>)[v2 ? buf.readUIntLE(p + 7, 3) : (buf[p + 5] ?? 0)];
      if (end + sig <= buf.length && magic !== undefined && x25crc(buf.subarray(p, end), 1, 2, magic) === buf.readUInt16LE(end - 2)) {
        found.push(buf.subarray(p, end + sig));
        p = end + sig;
        continue;
      }
    }
    p += 1;
  }
  return found;
}

function splitterPackets(buf: Buffer): Promise<Buffer[]> {
  const s = new MavLinkPacketSplitter();
  const out: Buffer[] = [];
  s.on('data', (p: { buffer: Buffer }) => out.push(Buffer.from(p.buffer)));
  return new Promise((resolve) => {
    s.on('end', () => resolve(out));
    s.end(buf);
  });
}

describe('TlogReader on the real logs in ../shared/data', () => {
  for (const name of LOGS) {
    it(`${name}: loses no packet against an independent byte-by-byte count`, async () => {
      const buf = data(name);
      const { records, reader } = readAll(buf, 4096);
      const brute = bruteForcePackets(buf);
      expect(records.length).toBe(brute.length);
      expect(records.map((r) => r.frame.raw.toString('hex'))).toEqual(brute.map((b) => b.toString('hex')));
      expect(reader.stats.records).toBe(records.length);
      // node-mavlink's splitter (fed the whole file at once) finds fewer; every one it finds, we find.
      const ours = new Set(records.map((r) => r.frame.raw.toString('hex')));
      for (const p of await splitterPackets(buf)) expect(ours.has(p.toString('hex'))).toBe(true);
      // Timestamps never go back to zero: a valid packet always carries a real time.
      expect(records.every((r) => r.timestampUs > Date.UTC(2010, 0, 1) * 1000)).toBe(true);
    });
  }

  it('counts the corrupt records of the radio-recorded ArduCopter flight', () => {
    const { reader } = readAll(data('arducopter-flight.tlog'));
    expect(reader.stats.corruptRecords).toBeGreaterThan(0);
    expect(reader.stats.skippedBytes).toBeGreaterThan(0);
  });

  it('gives the same records whatever the read-chunk size (regression: node-mavlink loses packets at chunk boundaries)', () => {
    const buf = data('ardusub-v2.tlog').subarray(0, 60_000);
    const whole = readAll(buf).records.map((r) => r.frame.raw.toString('hex'));
    for (const chunk of [1, 7, 64, 1000]) expect(readAll(buf, chunk).records.map((r) => r.frame.raw.toString('hex'))).toEqual(whole);
  });
});

describe('TlogReader resynchronisation', () => {
  const enc = new MavEncoder({ sysid: 1, compid: 1 });
  const record = (i: number): Buffer => {
    const hb = new minimal.Heartbeat();
    hb.customMode = i;
    const ts = Buffer.alloc(8);
    ts.writeBigUInt64BE(BigInt(Date.UTC(2024, 0, 1)) * 1000n + BigInt(i) * 1000n);
    return Buffer.concat([ts, enc.encode(hb)]);
  };
  const recs = Array.from({ length: 10 }, (_, i) => record(i));

  it('recovers every valid packet after a corrupt timestamp, a truncated timestamp, a flipped byte, a truncated packet and garbage', () => {
    const badTs = Buffer.from(recs[1]!);
    badTs.fill(0xff, 0, 8);
    const shortTs = recs[2]!.subarray(3);
    const flipped = Buffer.from(recs[3]!);
    flipped[14] = (flipped[14] ?? 0) ^ 0x40;
    const truncated = recs[5]!.subarray(0, recs[5]!.length - 4);
    const stream = Buffer.concat([recs[0]!, badTs, shortTs, flipped, recs[4]!, truncated, recs[6]!, Buffer.from('\xfe\xfdgarbage'), recs[7]!, recs[8]!, recs[9]!]);
    for (const chunk of [stream.length, 5]) {
      const { records, reader } = readAll(stream, chunk);
      expect(records.map((r) => r.frame.seq)).toEqual([0, 1, 2, 4, 6, 7, 8, 9]);
      expect(reader.stats.badTimestamps).toBe(2);
      expect(reader.stats.corruptRecords).toBe(3);
      // A packet behind a corrupt timestamp takes the previous record's time.
      expect(records[1]!.timestampUs).toBe(records[0]!.timestampUs);
    }
  });
});
