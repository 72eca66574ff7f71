import { x25crc } from './crc.js';
import { IFLAG_SIGNED, STX_V1, STX_V2 } from './frame.js';
import { appendSignature, signingTimestampFromMs } from './signing.js';
import type { MessageDef } from './message-def.js';

export interface SigningConfig {
  key: Buffer;
  linkId: number;
}

export interface EncoderOptions {
  sysid: number;
  compid: number;
  version?: 1 | 2;
  signing?: SigningConfig | null;
  /** Wall clock for signing timestamps (ms). */
  now?: () => number;
}

/**
 * Frames outgoing messages of the hand-written codec for one link: header, payload, checksum
 * and, with a key, the MAVLink 2 signature. Sequence number and signing timestamp are per
 * encoder (per link), never module-wide.
 */
export class PacketEncoder {
  private seq = 0;
  private lastSigningTs = 0;
  private readonly version: 1 | 2;

  constructor(private readonly opts: EncoderOptions) {
    this.version = opts.version ?? 2;
    if (opts.signing && this.version !== 2) throw new Error('MAVLink signing needs MAVLink 2');
  }

  get sysid(): number {
    return this.opts.sysid;
  }

  /** Encodes with the next sequence number (mod 256). */
  encode<T extends object>(def: MessageDef<string, T>, values: Partial<T>): Buffer {
    const seq = this.seq;
    this.seq = (this.seq + 1) & 0xff;
    return this.encodeWithSeq(def, values, seq);
  }

  encodeWithSeq<T extends object>(def: MessageDef<string, T>, values: Partial<T>, seq: number, signingTimestamp?: number): Buffer {
    const payload = def.encode(values, this.version);
    const { sysid, compid, signing } = this.opts;
    if (this.version === 1) {
      const packet = Buffer.alloc(6 + payload.length + 2);
      packet[0] = STX_V1;
      packet[1] = payload.length;
      packet[2] = seq;
      packet[3] = sysid;
      packet[4] = compid;
      packet[5] = def.id & 0xff;
      payload.copy(packet, 6);
      packet.writeUInt16LE(x25crc(packet, 1, 6 + payload.length, def.crcExtra), 6 + payload.length);
      return packet;
    }
    const packet = Buffer.alloc(10 + payload.length + 2);
    packet[0] = STX_V2;
    packet[1] = payload.length;
    packet[2] = signing ? IFLAG_SIGNED : 0;
    packet[3] = 0;
    packet[4] = seq;
    packet[5] = sysid;
    packet[6] = compid;
    packet.writeUIntLE(def.id, 7, 3);
    payload.copy(packet, 10);
    packet.writeUInt16LE(x25crc(packet, 1, 10 + payload.length, def.crcExtra), 10 + payload.length);
    if (!signing) return packet;
    return appendSignature(signing.key, packet, signing.linkId, signingTimestamp ?? this.nextSigningTimestamp());
  }

  /** [MAVLink 2 signing] timestamps must strictly increase per link, even within one 10 µs tick. */
  private nextSigningTimestamp(): number {
    const now = signingTimestampFromMs((this.opts.now ?? Date.now)());
    this.lastSigningTs = Math.max(now, this.lastSigningTs + 1);
    return this.lastSigningTs;
  }
}
