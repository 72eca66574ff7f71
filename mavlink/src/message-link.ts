import { LinkBase, type ByteTransport, type LinkOptions } from './link-base.js';
import { PacketEncoder, type EncoderOptions } from './packet.js';
import { decodeMessage, type MavMessage } from './messages.js';
import type { MessageDef } from './message-def.js';

/**
 * A link speaking the hand-written codec (messages.ts): what the edge agent runs, so its
 * process never loads node-mavlink's generated classes. Frames of other ids are still
 * CRC-checked and counted, then skipped.
 */
export class MessageLink extends LinkBase<MavMessage> {
  private readonly encoder: PacketEncoder;

  constructor(transport: ByteTransport, encoder: EncoderOptions, opts: LinkOptions = {}) {
    super(transport, decodeMessage, opts);
    this.encoder = new PacketEncoder(encoder);
  }

  get sysid(): number {
    return this.encoder.sysid;
  }

  send<T extends object>(def: MessageDef<string, T>, values: Partial<T>): boolean {
    return this.sendRaw(this.encoder.encode(def, values));
  }
}
