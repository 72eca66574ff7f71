import { describe, expect, it } from 'vitest';
import type { common } from 'node-mavlink';
import { FrameDecoder, MavEncoder, computeSignature, crcExtraOf, decodeFrame, signingKeyFromPassphrase } from '@aerie/mavlink';
import { FastEncoder } from '../src/adapters/fast-encoder.js';
import { telemetryMessage } from '../src/adapters/mavlink-telemetry.js';
import { toMavlink } from '../src/adapters/mavlink-messages.js';
import type { TelemetryStream } from '../src/ports.js';
import { Bench, at } from './harness.js';

const STREAMS: TelemetryStream[] = ['heartbeat', 'home-position', 'global-position', 'sys-status', 'gps-raw', 'vfr-hud', 'extended-sys-state', 'mission-current'];

function snapshots() {
  const b = new Bench({ sysid: 42 });
  const out = [b.vehicle.snapshot()];
  b.command(400, [1]);
  b.command(22, [0, 0, 0, 0, 0, 0, 20]);
  for (let i = 0; i < 80; i++) b.vehicle.step(0.1);
  out.push(b.vehicle.snapshot());
  b.vehicle.setFaults({ gpsNoFix: true });
  out.push(b.vehicle.snapshot());
  return out;
}

describe('FastEncoder (hot-path MAVLink 2 writer)', () => {
  it('writes the same bytes as node-mavlink for every telemetry stream, at any offset and seq', () => {
    const slow = new MavEncoder({ sysid: 42, compid: 1 });
    const fast = new FastEncoder(42, 1);
    const buf = Buffer.alloc(600, 0xaa);
    let seq = 250;
    for (const s of snapshots()) {
      for (const stream of STREAMS) {
        const msg = telemetryMessage(stream, s);
        const want = slow.encodeWithSeq(msg, seq);
        const len = fast.write(msg, seq, buf, 7);
        expect(buf.subarray(7, 7 + len).toString('hex'), stream).toBe(want.toString('hex'));
        seq = (seq + 1) & 0xff;
      }
    }
  });

  it('with signed, writes the packet node-mavlink signs (incompat flag under the CRC), given the same signature block', () => {
    const key = signingKeyFromPassphrase('aerie');
    const slow = new MavEncoder({ sysid: 42, compid: 1, signing: { key, linkId: 3 } });
    const fast = new FastEncoder(42, 1, { signed: true });
    const buf = Buffer.alloc(400);
    let ts = 1_000_000;
    for (const stream of STREAMS) {
      const msg = telemetryMessage(stream, snapshots()[1]!);
      const want = slow.encodeWithSeq(msg, 17, ts);
      const len = fast.write(msg, 17, buf, 5);
      const block = Buffer.alloc(13);
      block.writeUInt8(3, 0);
      block.writeUIntLE(ts, 1, 6);
      computeSignature(key, buf.subarray(5, 5 + len), 3, ts).copy(block, 7);
      expect(Buffer.concat([buf.subarray(5, 5 + len), block]).toString('hex'), stream).toBe(want.toString('hex'));
      ts += 1;
    }
  });

  it('writes events too (strings, arrays) and a reused message refills in place', () => {
    const slow = new MavEncoder({ sysid: 3, compid: 1 });
    const fast = new FastEncoder(3, 1);
    const buf = Buffer.alloc(300);
    const text = toMavlink({ kind: 'statustext', severity: 4, text: 'GPS fix lost' });
    expect(buf.subarray(0, fast.write(text, 9, buf, 0)).equals(slow.encodeWithSeq(text, 9))).toBe(true);
    const [a, b] = snapshots();
    const reused = telemetryMessage('global-position', a!);
    expect(telemetryMessage('global-position', b!, reused)).toBe(reused);
    expect((reused as common.GlobalPositionInt).relativeAlt).toBe(Math.round(b!.position.relAltM * 1000));
  });

  it('packs several packets in one datagram that the shared decoder splits again', () => {
    const fast = new FastEncoder(7, 1);
    const buf = Buffer.alloc(1400);
    const [, s] = snapshots();
    let n = 0;
    STREAMS.forEach((stream, i) => (n += fast.write(telemetryMessage(stream, s!), i, buf, n)));
    const frames = new FrameDecoder(crcExtraOf).pushDatagram(buf.subarray(0, n));
    expect(frames.map((f) => f.seq)).toEqual(STREAMS.map((_, i) => i));
    const pos = decodeFrame(frames[2]!) as common.GlobalPositionInt;
    expect(pos.lat).toBe(Math.round(s!.position.lat * 1e7));
    expect(at(0, 0).lat).toBeCloseTo(s!.home.lat, 9);
  });
});
