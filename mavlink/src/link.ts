import { EventEmitter } from 'node:events';
import type { MavLinkData } from 'node-mavlink';
import { FrameDecoder, type FrameStats, type MavFrame } from './frame.js';
import { MavEncoder, crcExtraOf, decodeFrame, type EncoderOptions } from './codec.js';

/** What a link needs from its transport: whole datagrams or stream chunks in, bytes out. */
export interface ByteTransport {
  readonly framing: 'datagram' | 'stream';
  send(data: Buffer): boolean;
  onData(listener: (chunk: Buffer) => void): void;
  close(): Promise<void>;
}

export interface LinkEvents {
  message: [message: MavLinkData, frame: MavFrame];
}

export interface LinkStats extends FrameStats {
  sent: number;
  sendDropped: number;
}

/**
 * One MAVLink link: a transport, its decoder and its encoder. All per-link state (sequence,
 * signing timestamp, counters) lives here, never at module scope.
 */
export class MavLink extends EventEmitter<LinkEvents> {
  private readonly decoder = new FrameDecoder(crcExtraOf);
  private readonly encoder: MavEncoder;
  private sent = 0;
  private sendDropped = 0;

  constructor(private readonly transport: ByteTransport, encoder: EncoderOptions) {
    super();
    this.encoder = new MavEncoder(encoder);
    transport.onData((chunk) => {
      const frames = transport.framing === 'datagram' ? this.decoder.pushDatagram(chunk) : this.decoder.push(chunk);
      for (const frame of frames) {
        const message = decodeFrame(frame);
        if (message) this.emit('message', message, frame);
      }
    });
  }

  get sysid(): number {
    return this.encoder.sysid;
  }

  get stats(): LinkStats {
    return { ...this.decoder.stats, sent: this.sent, sendDropped: this.sendDropped };
  }

  send(message: MavLinkData): boolean {
    const ok = this.transport.send(this.encoder.encode(message));
    if (ok) this.sent += 1;
    else this.sendDropped += 1;
    return ok;
  }

  close(): Promise<void> {
    this.removeAllListeners();
    return this.transport.close();
  }
}
