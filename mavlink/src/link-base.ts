import { EventEmitter } from 'node:events';
import { FrameDecoder, type FrameStats, type MavFrame } from './frame.js';
import { crcExtraOf } from './crc-extra.js';
import { IncomingSigning, type IncomingSigningOptions, type SigningStats } from './signature-policy.js';

/** What a link needs from its transport: whole datagrams or stream chunks in, bytes out. */
export interface ByteTransport {
  readonly framing: 'datagram' | 'stream';
  send(data: Buffer): boolean;
  onData(listener: (chunk: Buffer) => void): void;
  close(): Promise<void>;
}

export interface LinkEvents<M> {
  message: [message: M, frame: MavFrame];
}

export interface LinkStats extends FrameStats, SigningStats {
  sent: number;
  sendDropped: number;
}

export interface LinkOptions {
  /** Incoming signature policy; absent, every CRC-valid packet is accepted. */
  incomingSigning?: IncomingSigningOptions | null;
  /** Every CRC-valid packet received (before the signature policy) and every packet sent: for .tlog recording. */
  onPacket?: (raw: Buffer, direction: 'in' | 'out') => void;
}

const NO_SIGNING: SigningStats = { signed: 0, unsignedAccepted: 0, unsignedRejected: 0, badSignature: 0, replayRejected: 0 };

/**
 * One MAVLink link: a transport, its framer, the incoming signature policy and counters. All
 * per-link state lives here, never at module scope. Subclasses bring the message codec: `decode`
 * turns a frame into a message (null for ids it does not know: counted by the framer, not emitted).
 */
export class LinkBase<M> extends EventEmitter<LinkEvents<M>> {
  private readonly decoder = new FrameDecoder(crcExtraOf);
  private sent = 0;
  private sendDropped = 0;
  private readonly signing: IncomingSigning | null;
  private readonly onPacket: LinkOptions['onPacket'] | null;

  constructor(private readonly transport: ByteTransport, decode: (frame: MavFrame) => M | null, opts: LinkOptions = {}) {
    super();
    this.onPacket = opts.onPacket ?? null;
    this.signing = opts.incomingSigning ? new IncomingSigning(opts.incomingSigning) : null;
    transport.onData((chunk) => {
      const frames = transport.framing === 'datagram' ? this.decoder.pushDatagram(chunk) : this.decoder.push(chunk);
      for (const frame of frames) {
        this.onPacket?.(frame.raw, 'in');
        // Rejected packets are counted in stats, never decoded: a forged or replayed command must not act.
        if (this.signing && !IncomingSigning.accepts(this.signing.check(frame))) continue;
        const message = decode(frame);
        if (message !== null) this.emit('message', message, frame);
      }
    });
  }

  get stats(): LinkStats {
    return { ...this.decoder.stats, ...(this.signing?.stats ?? NO_SIGNING), sent: this.sent, sendDropped: this.sendDropped };
  }

  /** Sends one encoded packet; false (and counted) when the transport cannot take it now. */
  protected sendRaw(raw: Buffer): boolean {
    const ok = this.transport.send(raw);
    if (ok) {
      this.sent += 1;
      this.onPacket?.(raw, 'out');
    } else this.sendDropped += 1;
    return ok;
  }

  close(): Promise<void> {
    this.removeAllListeners();
    return this.transport.close();
  }
}
