import { x25crc } from './crc.js';

export const STX_V1 = 0xfe;
export const STX_V2 = 0xfd;
const HEADER_V1 = 6;
const HEADER_V2 = 10;
const CRC_LEN = 2;
const SIGNATURE_LEN = 13;
/** MAVLink 2 incompat_flags bit 0: the packet carries a signature. */
export const IFLAG_SIGNED = 0x01;

/** One framed packet whose CRC (with the message's CRC_EXTRA) was valid. */
export interface MavFrame {
  version: 1 | 2;
  incompatFlags: number;
  compatFlags: number;
  seq: number;
  sysid: number;
  compid: number;
  msgid: number;
  /** Payload as sent; MAVLink 2 trims trailing zeros, so it may be shorter than the message. */
  payload: Buffer;
  /** 13 bytes: link id, 48-bit timestamp, 48-bit signature; null when unsigned. */
  signature: Buffer | null;
  /** The whole packet, for forwarding and signature checks. */
  raw: Buffer;
}

export interface FrameStats {
  frames: number;
  badCrc: number;
  unknownMsgid: number;
  garbageBytes: number;
  truncated: number;
}

export type CrcExtraLookup = (msgid: number) => number | undefined;

/**
 * Splits a byte stream (or a sequence of datagrams) into MAVLink v1/v2 packets.
 *
 * Unlike node-mavlink's splitter it keeps an incomplete packet across chunks, so a packet cut
 * by a read boundary is not lost, and on a bad CRC it resynchronises one byte later, so a
 * valid packet that follows garbage is always recovered. Nothing here throws on input.
 */
export class FrameDecoder {
  readonly stats: FrameStats = { frames: 0, badCrc: 0, unknownMsgid: 0, garbageBytes: 0, truncated: 0 };
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly crcExtra: CrcExtraLookup) {}

  /** Feeds stream bytes; an incomplete trailing packet waits for the next chunk. */
  push(chunk: Buffer): MavFrame[] {
    const buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    const { frames, consumed } = this.scan(buf);
    this.pending = Buffer.from(buf.subarray(consumed));
    return frames;
  }

  /**
   * Feeds one whole datagram: a packet that does not complete inside it is counted as truncated.
   * Nothing arrives later to complete it, so a start byte whose length runs past the end is
   * garbage like any other, and the scan goes on one byte later: valid packets behind it in the
   * same datagram are kept.
   */
  pushDatagram(datagram: Buffer): MavFrame[] {
    const { frames, incomplete } = this.scan(datagram, true);
    if (incomplete) this.stats.truncated += 1;
    return frames;
  }

  private scan(buf: Buffer, datagram = false): { frames: MavFrame[]; consumed: number; incomplete: boolean } {
    const frames: MavFrame[] = [];
    let i = 0;
    let incomplete = false;
    while (i < buf.length) {
      const r = parseFrameAt(buf, i, this.crcExtra);
      if (r.kind === 'incomplete') {
        if (!datagram) break;
        incomplete = true;
        this.stats.garbageBytes += 1;
        i += 1;
        continue;
      }
      if (r.kind === 'frame') {
        frames.push(r.frame);
        this.stats.frames += 1;
        i += r.length;
        continue;
      }
      if (r.kind === 'unknown') {
        // Without CRC_EXTRA the CRC cannot be checked. Skip the frame only when the next byte
        // starts a packet (or the data ends there); otherwise this was garbage that looked like
        // a header, and skipping the frame could swallow a valid packet behind it.
        const next = buf[i + r.length];
        if (next === undefined || next === STX_V1 || next === STX_V2) {
          this.stats.unknownMsgid += 1;
          i += r.length;
          continue;
        }
      }
      if (r.kind === 'badCrc') this.stats.badCrc += 1;
      this.stats.garbageBytes += 1;
      i += 1;
    }
    return { frames, consumed: i, incomplete };
  }
}

export type FrameAt =
  | { kind: 'frame'; frame: MavFrame; length: number }
  /** The buffer ends before the packet does. */
  | { kind: 'incomplete' }
  /** Not a packet start: wrong magic byte or incompat flags this receiver does not know. */
  | { kind: 'garbage' }
  | { kind: 'badCrc'; length: number }
  /** A well-formed header of a message id without known CRC_EXTRA; `length` is its full size. */
  | { kind: 'unknown'; msgid: number; length: number };

/** Tries to read one packet starting exactly at `i`. Never throws. */
export function parseFrameAt(buf: Buffer, i: number, crcExtra: CrcExtraLookup): FrameAt {
  const stx = buf[i];
  if (stx !== STX_V1 && stx !== STX_V2) return { kind: 'garbage' };
  const v2 = stx === STX_V2;
  const headerLen = v2 ? HEADER_V2 : HEADER_V1;
  if (buf.length - i < headerLen) return { kind: 'incomplete' };
  const payloadLen = buf[i + 1] ?? 0;
  const incompat = v2 ? (buf[i + 2] ?? 0) : 0;
  // [MAVLink 2] a receiver must drop packets with incompat flags it does not understand.
  if (v2 && (incompat & ~IFLAG_SIGNED) !== 0) return { kind: 'garbage' };
  const signed = (incompat & IFLAG_SIGNED) !== 0;
  const total = headerLen + payloadLen + CRC_LEN + (signed ? SIGNATURE_LEN : 0);
  if (buf.length - i < total) return { kind: 'incomplete' };
  const msgid = v2 ? buf.readUIntLE(i + 7, 3) : (buf[i + 5] ?? 0);
  const extra = crcExtra(msgid);
  if (extra === undefined) return { kind: 'unknown', msgid, length: total };
  const crcEnd = i + headerLen + payloadLen;
  const expected = x25crc(buf, i + 1, crcEnd, extra);
  if (expected !== buf.readUInt16LE(crcEnd)) return { kind: 'badCrc', length: total };
  const raw = Buffer.from(buf.subarray(i, i + total));
  return {
    kind: 'frame',
    length: total,
    frame: {
      version: v2 ? 2 : 1,
      incompatFlags: incompat,
      compatFlags: v2 ? (raw[3] ?? 0) : 0,
      seq: raw[v2 ? 4 : 2] ?? 0,
      sysid: raw[v2 ? 5 : 3] ?? 0,
      compid: raw[v2 ? 6 : 4] ?? 0,
      msgid,
      payload: raw.subarray(headerLen, headerLen + payloadLen),
      signature: signed ? raw.subarray(total - SIGNATURE_LEN) : null,
      raw,
    },
  };
}
