import type { MavLinkData } from 'node-mavlink';
import { LinkBase, type ByteTransport, type LinkOptions } from './link-base.js';
import { MavEncoder, decodeFrame } from './codec.js';
import type { EncoderOptions } from './packet.js';

/**
 * A link speaking node-mavlink's message classes (every message of the common and ardupilotmega
 * dialects): what the simulator uses. The edge agent uses MessageLink instead.
 */
export class MavLink extends LinkBase<MavLinkData> {
  private readonly encoder: MavEncoder;

  constructor(transport: ByteTransport, encoder: EncoderOptions, opts: LinkOptions = {}) {
    super(transport, decodeFrame, opts);
    this.encoder = new MavEncoder(encoder);
  }

  get sysid(): number {
    return this.encoder.sysid;
  }

  send(message: MavLinkData): boolean {
    return this.sendRaw(this.encoder.encode(message));
  }
}
