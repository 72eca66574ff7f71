import {
  ardupilotmega, common, minimal, MavLinkProtocolV1, MavLinkProtocolV2,
  type MavLinkData, type MavLinkPacketRegistry,
} from 'node-mavlink';
import type { MavFrame } from './frame.js';
import type { EncoderOptions } from './packet.js';
import { appendSignature, signingTimestampFromMs } from './signing.js';
import { IFLAG_SIGNED } from './frame.js';

/** Every message node-mavlink decodes for Aerie's simulator and tests: the minimal, common and ardupilotmega dialects. */
export const REGISTRY: MavLinkPacketRegistry = {
  ...minimal.REGISTRY,
  ...common.REGISTRY,
  ...ardupilotmega.REGISTRY,
};


const decoderV2 = new MavLinkProtocolV2();
const decoderV1 = new MavLinkProtocolV1();

/** Decodes a frame's payload into its node-mavlink message class; null for unknown ids. */
export function decodeFrame(frame: MavFrame): MavLinkData | null {
  const clazz = REGISTRY[frame.msgid];
  if (!clazz) return null;
  // MAVLink 2 payloads arrive with trailing zeros trimmed; pad to the full length first.
  const full = Buffer.alloc(Math.max(255, frame.payload.length));
  frame.payload.copy(full);
  return (frame.version === 2 ? decoderV2 : decoderV1).data(full, clazz);
}

/**
 * Encodes outgoing packets for one link. Sequence numbers and the signing timestamp are per
 * link, not module-wide (node-mavlink's `send()` keeps a module-level counter and defaults to
 * MAVLink 1 with sysid 254).
 */
export class MavEncoder {
  private seq = 0;
  private lastSigningTs = 0;
  private readonly protocol: MavLinkProtocolV1 | MavLinkProtocolV2;
  private readonly signedProtocol: MavLinkProtocolV2 | null;

  constructor(private readonly opts: EncoderOptions) {
    const version = opts.version ?? 2;
    this.protocol = version === 2 ? new MavLinkProtocolV2(opts.sysid, opts.compid) : new MavLinkProtocolV1(opts.sysid, opts.compid);
    this.signedProtocol = opts.signing ? new MavLinkProtocolV2(opts.sysid, opts.compid, IFLAG_SIGNED) : null;
    if (opts.signing && version !== 2) throw new Error('MAVLink signing needs MAVLink 2');
  }

  get sysid(): number {
    return this.opts.sysid;
  }

  /** Encodes with the next sequence number (mod 256). */
  encode(message: MavLinkData): Buffer {
    const seq = this.seq;
    this.seq = (this.seq + 1) & 0xff;
    return this.encodeWithSeq(message, seq);
  }

  encodeWithSeq(message: MavLinkData, seq: number, signingTimestamp?: number): Buffer {
    const signing = this.opts.signing;
    if (!signing || !this.signedProtocol) return this.protocol.serialize(message, seq);
    const unsigned = this.signedProtocol.serialize(message, seq);
    return appendSignature(signing.key, unsigned, signing.linkId, signingTimestamp ?? this.nextSigningTimestamp());
  }

  /** [MAVLink 2 signing] timestamps must strictly increase per link, even within one 10 µs tick. */
  private nextSigningTimestamp(): number {
    const now = signingTimestampFromMs((this.opts.now ?? Date.now)());
    this.lastSigningTs = Math.max(now, this.lastSigningTs + 1);
    return this.lastSigningTs;
  }
}
