import { parseFrameAt, STX_V1, STX_V2, type CrcExtraLookup, type MavFrame } from './frame.js';

/** One .tlog record: the recorder's wall-clock time (µs since the Unix epoch) and a valid packet. */
export interface TlogRecord {
  timestampUs: number;
  frame: MavFrame;
}

export interface TlogStats {
  /** Records whose packet had a valid CRC. */
  records: number;
  /** Runs of bytes skipped to find the next valid record (one per resynchronisation). */
  corruptRecords: number;
  skippedBytes: number;
  /** Valid packets whose timestamp was missing or outside 2000–2100 (the previous one is used). */
  badTimestamps: number;
  /** Well-framed records of message ids without a known CRC_EXTRA, skipped whole. */
  unknownMsgid: number;
}

const TS_LEN = 8;
const MIN_TS_US = Date.UTC(2000, 0, 1) * 1000;
const MAX_TS_US = Date.UTC(2100, 0, 1) * 1000;

function timestampAt(buf: Buffer, i: number): number | null {
  if (i < 0 || buf.length - i < TS_LEN) return null;
  const hi = buf.readUInt32BE(i);
  const ts = hi * 2 ** 32 + buf.readUInt32BE(i + 4);
  return ts >= MIN_TS_US && ts < MAX_TS_US ? ts : null;
}

/**
 * Reads Mission Planner / MAVProxy telemetry logs: records of an 8-byte big-endian µs timestamp
 * followed by one MAVLink 1 or 2 packet. Feed it chunks of any size: a record cut by a read
 * boundary waits for the next chunk (node-mavlink's tlog splitter drops it). A record whose packet
 * fails its CRC, or whose timestamp lost bytes, is skipped by searching byte by byte for the next
 * valid packet; a valid packet behind a corrupt or truncated timestamp is kept.
 */
export class TlogReader {
  readonly stats: TlogStats = { records: 0, corruptRecords: 0, skippedBytes: 0, badTimestamps: 0, unknownMsgid: 0 };
  private pending: Buffer = Buffer.alloc(0);
  private lastTs = 0;

  constructor(private readonly crcExtra: CrcExtraLookup) {}

  push(chunk: Buffer): TlogRecord[] {
    const buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    const { records, consumed } = this.scan(buf, false);
    this.pending = Buffer.from(buf.subarray(consumed));
    return records;
  }

  /** Ends the stream: a trailing incomplete record is counted as corrupt. */
  end(): TlogRecord[] {
    const { records } = this.scan(this.pending, true);
    this.pending = Buffer.alloc(0);
    return records;
  }

  private scan(buf: Buffer, final: boolean): { records: TlogRecord[]; consumed: number } {
    const records: TlogRecord[] = [];
    let i = 0;
    while (i < buf.length) {
      // Fast path: a well-formed record right here.
      const r = parseFrameAt(buf, i + TS_LEN, this.crcExtra);
      if (r.kind === 'incomplete' || buf.length - i < TS_LEN + 1) {
        if (!final) break;
      } else if (r.kind === 'frame') {
        records.push(this.record(timestampAt(buf, i), r.frame));
        i += TS_LEN + r.length;
        continue;
      } else if (r.kind === 'unknown') {
        const next = i + TS_LEN + r.length;
        if (next + TS_LEN >= buf.length && !final) break;
        if (next >= buf.length || (timestampAt(buf, next) !== null && isStx(buf[next + TS_LEN]))) {
          this.stats.unknownMsgid += 1;
          i = next;
          continue;
        }
      }
      // Corrupt: the next valid packet starts somewhere after i; its timestamp is the 8 bytes before it.
      const found = this.resync(buf, i, final);
      if (found === 'wait') break;
      if (found === null) {
        this.skip(buf.length - i);
        i = buf.length;
        break;
      }
      const tsStart = found.at - TS_LEN;
      this.skip(Math.max(tsStart, i) - i);
      records.push(this.record(tsStart >= i ? timestampAt(buf, tsStart) : null, found.frame));
      i = found.at + found.length;
    }
    return { records, consumed: i };
  }

  private resync(buf: Buffer, from: number, final: boolean): { at: number; frame: MavFrame; length: number } | 'wait' | null {
    for (let q = from; q < buf.length; q++) {
      if (!isStx(buf[q])) continue;
      const r = parseFrameAt(buf, q, this.crcExtra);
      if (r.kind === 'frame') return { at: q, frame: r.frame, length: r.length };
      if (r.kind === 'incomplete' && !final) return 'wait';
    }
    return final ? null : 'wait';
  }

  private skip(bytes: number): void {
    if (bytes <= 0) return;
    this.stats.corruptRecords += 1;
    this.stats.skippedBytes += bytes;
  }

  private record(ts: number | null, frame: MavFrame): TlogRecord {
    if (ts === null) this.stats.badTimestamps += 1;
    else this.lastTs = ts;
    this.stats.records += 1;
    return { timestampUs: ts ?? this.lastTs, frame };
  }
}

function isStx(b: number | undefined): boolean {
  return b === STX_V1 || b === STX_V2;
}
