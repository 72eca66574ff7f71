import type { MavLinkData } from 'node-mavlink';
import { IFLAG_SIGNED } from '@aerie/mavlink';

/**
 * MAVLink 2 packets written straight into a caller's buffer: the hot path of a thousand vehicles
 * streaming at 10 Hz. node-mavlink's `serialize` allocates three buffers per packet and looks up
 * a serializer per field by name on every call; this resolves each message class's field layout
 * once (from the same FIELDS table node-mavlink generates from the XML, so offsets and wire types
 * cannot drift) and writes with no allocation. The output is byte-identical to node-mavlink's
 * MAVLink 2 serialisation (test/fast-encoder.test.ts pins it). With `signed` it sets the signed
 * incompat flag (covered by the CRC) and leaves the 13-byte signature block to the caller.
 */

type Write = (buf: Buffer, value: unknown, at: number) => void;

interface FieldPlan {
  name: string;
  at: number;
  write: Write;
  /** Array element count, 0 for a scalar. */
  count: number;
  size: number;
}

interface MessagePlan {
  msgid: number;
  crcExtra: number;
  payloadLength: number;
  fields: FieldPlan[];
}

interface FieldMeta {
  name: string;
  offset: number;
  size: number;
  type: string;
  length: number;
}

interface MessageClass {
  MSG_ID: number;
  MAGIC_NUMBER: number;
  PAYLOAD_LENGTH: number;
  FIELDS: FieldMeta[];
}

const HEADER = 10;
const CHECKSUM = 2;
/** The largest MAVLink 2 packet without a signature. */
export const MAX_PACKET = HEADER + 255 + CHECKSUM;
/** [MAVLink 2 signing] link id (1), timestamp (6), signature (6). */
export const SIGNATURE_LEN = 13;

const num = (v: unknown): number => v as number;
const SCALAR: Record<string, Write> = {
  char: (b, v, at) => b.writeUInt8(num(v), at),
  int8_t: (b, v, at) => b.writeInt8(num(v), at),
  uint8_t: (b, v, at) => b.writeUInt8(num(v), at),
  uint8_t_mavlink_version: (b, v, at) => b.writeUInt8(num(v), at),
  int16_t: (b, v, at) => b.writeInt16LE(num(v), at),
  uint16_t: (b, v, at) => b.writeUInt16LE(num(v), at),
  int32_t: (b, v, at) => b.writeInt32LE(num(v), at),
  uint32_t: (b, v, at) => b.writeUInt32LE(num(v), at),
  int64_t: (b, v, at) => b.writeBigInt64LE(v as bigint, at),
  uint64_t: (b, v, at) => b.writeBigUInt64LE(v as bigint, at),
  float: (b, v, at) => b.writeFloatLE(num(v), at),
  double: (b, v, at) => b.writeDoubleLE(num(v), at),
};

const plans = new Map<MessageClass, MessagePlan>();

function planFor(clazz: MessageClass): MessagePlan {
  let plan = plans.get(clazz);
  if (plan) return plan;
  const fields = clazz.FIELDS.map((f): FieldPlan => {
    const isArray = f.type.endsWith('[]');
    const base = isArray ? f.type.slice(0, -2) : f.type;
    const write = SCALAR[base];
    if (!write) throw new Error(`no writer for MAVLink type ${f.type}`);
    return { name: f.name, at: f.offset, write, count: isArray ? f.length : 0, size: f.size };
  });
  plan = { msgid: clazz.MSG_ID, crcExtra: clazz.MAGIC_NUMBER, payloadLength: clazz.PAYLOAD_LENGTH, fields };
  plans.set(clazz, plan);
  return plan;
}

/** [MAVLink CRC] X.25 (CRC-16/MCRF4XX) over bytes [from, to), then CRC_EXTRA. */
function x25(buf: Buffer, from: number, to: number, extra: number): number {
  let crc = 0xffff;
  for (let i = from; i <= to; i++) {
    let tmp = (i === to ? extra : buf[i]!) ^ (crc & 0xff);
    tmp = (tmp ^ (tmp << 4)) & 0xff;
    crc = ((crc >> 8) ^ (tmp << 8) ^ (tmp << 3) ^ (tmp >> 4)) & 0xffff;
  }
  return crc;
}

export class FastEncoder {
  private readonly incompatFlags: number;

  constructor(private readonly sysid: number, private readonly compid: number, opts: { signed?: boolean } = {}) {
    this.incompatFlags = opts.signed === true ? IFLAG_SIGNED : 0;
  }

  /** Writes one MAVLink 2 packet of `message` with `seq` at `out[at]`; returns its length (without a signature). */
  write(message: MavLinkData, seq: number, out: Buffer, at: number): number {
    const plan = planFor(message.constructor as unknown as MessageClass);
    const p0 = at + HEADER;
    out.fill(0, p0, p0 + plan.payloadLength);
    const record = message as unknown as Record<string, unknown>;
    for (const f of plan.fields) {
      const value = record[f.name];
      if (f.count === 0) {
        f.write(out, value, p0 + f.at);
      } else if (typeof value === 'string') {
        for (let i = 0; i < value.length && i < f.count; i++) out[p0 + f.at + i] = value.charCodeAt(i) & 0xff;
      } else {
        const arr = value as ArrayLike<unknown>;
        for (let i = 0; i < arr.length && i < f.count; i++) f.write(out, arr[i], p0 + f.at + i * f.size);
      }
    }
    // [MAVLink 2 serialization] trailing zero bytes of the payload are not sent (at least one is).
    let len = plan.payloadLength;
    while (len > 1 && out[p0 + len - 1] === 0) len--;
    out[at] = 0xfd;
    out[at + 1] = len;
    out[at + 2] = this.incompatFlags;
    out[at + 3] = 0;
    out[at + 4] = seq & 0xff;
    out[at + 5] = this.sysid;
    out[at + 6] = this.compid;
    out[at + 7] = plan.msgid & 0xff;
    out[at + 8] = (plan.msgid >> 8) & 0xff;
    out[at + 9] = (plan.msgid >> 16) & 0xff;
    out.writeUInt16LE(x25(out, at + 1, p0 + len, plan.crcExtra), p0 + len);
    return HEADER + len + CHECKSUM;
  }
}
