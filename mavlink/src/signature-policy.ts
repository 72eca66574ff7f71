import type { MavFrame } from './frame.js';
import { readSignature, signingTimestampFromMs, verifySignature } from './signing.js';

export type SignatureVerdict = 'signed' | 'unsigned-accepted' | 'unsigned' | 'bad-signature' | 'replay';

export interface IncomingSigningOptions {
  key: Buffer;
  /**
   * What to do with packets that carry no signature (all of MAVLink 1): 'reject' is the secure
   * setting once the flight controller signs; 'accept' eases a fleet through key roll-out.
   */
  unsigned: 'accept' | 'reject';
  /** Ids accepted unsigned even under 'reject': RADIO_STATUS (109) is injected by SiK radios that cannot sign. */
  allowUnsignedMsgIds?: readonly number[];
  /** Wall clock (ms) for the one-minute rule on new streams. */
  now?: () => number;
}

export interface SigningStats {
  signed: number;
  unsignedAccepted: number;
  unsignedRejected: number;
  badSignature: number;
  replayRejected: number;
}

/** [MAVLink 2 signing] a new stream's first timestamp may lag the local one by at most a minute. */
const NEW_STREAM_WINDOW = 60 * 100_000;

/**
 * Incoming signature checks per the MAVLink 2 message-signing spec: the signature must match the
 * key, and per stream (sysid, compid, link id) the timestamp must strictly increase, so a recorded
 * packet played back later is rejected. State is per link object, never module-wide.
 */
export class IncomingSigning {
  readonly stats: SigningStats = { signed: 0, unsignedAccepted: 0, unsignedRejected: 0, badSignature: 0, replayRejected: 0 };
  private readonly streams = new Map<number, number>();
  private readonly allowUnsigned: ReadonlySet<number>;
  private latest = 0;

  constructor(private readonly opts: IncomingSigningOptions) {
    this.allowUnsigned = new Set(opts.allowUnsignedMsgIds ?? [109]);
  }

  check(frame: MavFrame): SignatureVerdict {
    if (!frame.signature) {
      if (this.opts.unsigned === 'accept' || this.allowUnsigned.has(frame.msgid)) {
        this.stats.unsignedAccepted += 1;
        return 'unsigned-accepted';
      }
      this.stats.unsignedRejected += 1;
      return 'unsigned';
    }
    if (!verifySignature(this.opts.key, frame.raw)) {
      this.stats.badSignature += 1;
      return 'bad-signature';
    }
    const { linkId, timestamp } = readSignature(frame.signature);
    const stream = (frame.sysid << 16) | (frame.compid << 8) | linkId;
    const last = this.streams.get(stream);
    const local = Math.max(this.latest, signingTimestampFromMs((this.opts.now ?? Date.now)()));
    if (last !== undefined ? timestamp <= last : timestamp + NEW_STREAM_WINDOW < local) {
      this.stats.replayRejected += 1;
      return 'replay';
    }
    this.streams.set(stream, timestamp);
    this.latest = Math.max(this.latest, timestamp);
    this.stats.signed += 1;
    return 'signed';
  }

  static accepts(verdict: SignatureVerdict): boolean {
    return verdict === 'signed' || verdict === 'unsigned-accepted';
  }
}
