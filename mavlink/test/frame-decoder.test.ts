import { describe, expect, it } from 'vitest';
import { common, minimal } from 'node-mavlink';
import { FrameDecoder, MavEncoder, crcExtraOf } from '../src/index.js';

function heartbeat(): minimal.Heartbeat {
  const hb = new minimal.Heartbeat();
  hb.type = minimal.MavType.QUADROTOR;
  hb.autopilot = minimal.MavAutopilot.PX4;
  hb.mavlinkVersion = 3;
  return hb;
}

function packets(n: number): Buffer[] {
  const enc = new MavEncoder({ sysid: 1, compid: 1 });
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 2 === 0) out.push(enc.encode(heartbeat()));
    else {
      const pos = new common.GlobalPositionInt();
      pos.lat = 473977420 + i;
      pos.lon = 85455940;
      out.push(enc.encode(pos));
    }
  }
  return out;
}

describe('FrameDecoder', () => {
  it('keeps a packet cut by a read boundary (node-mavlink tlog splitter loses it)', () => {
    const stream = Buffer.concat(packets(20));
    for (const cut of [1, 3, 7, 11, 13]) {
      const decoder = new FrameDecoder(crcExtraOf);
      let frames = 0;
      for (let i = 0; i < stream.length; i += cut) frames += decoder.push(stream.subarray(i, i + cut)).length;
      expect(frames, `chunk size ${cut}`).toBe(20);
      expect(decoder.stats.badCrc).toBe(0);
    }
  });

  it('recovers every valid packet after garbage, flipped bytes and truncation, and counts the damage', () => {
    const good = packets(10);
    const corrupt = Buffer.from(good[3]!);
    corrupt[12] = (corrupt[12] ?? 0) ^ 0xff;
    const truncated = good[5]!.subarray(0, 8);
    const stream = Buffer.concat([
      Buffer.from([0x00, 0xfd, 0xfe, 0x13, 0x37]), good[0]!, good[1]!, good[2]!, corrupt, good[4]!,
      truncated, good[6]!, good[7]!, Buffer.from('garbage'), good[8]!, good[9]!,
    ]);
    const decoder = new FrameDecoder(crcExtraOf);
    const frames = decoder.push(stream);
    expect(frames.map((f) => f.seq)).toEqual([0, 1, 2, 4, 6, 7, 8, 9]);
    expect(decoder.stats.badCrc).toBeGreaterThan(0);
    expect(decoder.stats.garbageBytes).toBeGreaterThan(0);
  });

  it('counts an unknown message id and skips its frame', () => {
    const pkt = Buffer.from(packets(1)[0]!);
    pkt.writeUIntLE(0xabcdef, 7, 3);
    const decoder = new FrameDecoder(crcExtraOf);
    expect(decoder.pushDatagram(Buffer.concat([pkt, packets(1)[0]!]))).toHaveLength(1);
    expect(decoder.stats.unknownMsgid).toBe(1);
  });

  it('regression: in a datagram, a start byte whose length runs past the end no longer hides the valid packets behind it', () => {
    const [a, b] = packets(2);
    const decoder = new FrameDecoder(crcExtraOf);
    // 0xfd with length 255 would need 267 bytes; before the fix the rest of the datagram was dropped with it.
    expect(decoder.pushDatagram(Buffer.concat([Buffer.from([0xfd, 0xff, 0x00]), a!, b!])).map((f) => f.seq)).toEqual([0, 1]);
    expect(decoder.stats.truncated).toBe(1);
    expect(decoder.pushDatagram(Buffer.concat([a!, b!.subarray(0, 9)]))).toHaveLength(1);
    expect(decoder.stats.truncated).toBe(2);
  });
});
