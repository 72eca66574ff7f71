/**
 * A small table-driven MAVLink payload codec: a message is its id, CRC_EXTRA and fields in wire
 * order. It replaces node-mavlink's generated classes where memory matters (the edge agent):
 * loading mavlink-mappings costs ~30 MB of RSS for hundreds of classes the agent never uses.
 *
 * Wire order (MAVLink serialization, "Field reordering"): the base fields sorted by the size of
 * their element type, largest first, stable within a size; extension fields after them, in XML
 * order, never reordered. Definitions below are written in that order, so offsets are cumulative.
 */
export type WireType = 'uint8_t' | 'int8_t' | 'uint16_t' | 'int16_t' | 'uint32_t' | 'int32_t' | 'uint64_t' | 'int64_t' | 'float' | 'double' | 'char';

/** [camelCase name, wire type, array length (absent for a scalar)]. */
export type FieldSpec = readonly [name: string, type: WireType, count?: number];

type ValueOf<S> = S extends readonly [string, 'char', number] ? string
  : S extends readonly [string, 'uint64_t' | 'int64_t', number] ? bigint[]
  : S extends readonly [string, WireType, number] ? number[]
  : S extends readonly [string, 'uint64_t' | 'int64_t'] ? bigint
  : number;

/** The decoded fields of a message, typed from its definition. */
export type FieldValues<L extends readonly FieldSpec[]> = { -readonly [S in L[number] as S[0]]: ValueOf<S> };

export interface FieldLayout {
  /** camelCase, as node-mavlink names it. */
  name: string;
  /** snake_case, as the XML and pymavlink name it. */
  wireName: string;
  type: WireType;
  /** 0 for a scalar. */
  count: number;
  offset: number;
  extension: boolean;
}

const SIZE: Record<WireType, number> = {
  uint8_t: 1, int8_t: 1, char: 1, uint16_t: 2, int16_t: 2, uint32_t: 4, int32_t: 4, float: 4, uint64_t: 8, int64_t: 8, double: 8,
};

/** One reusable zero-filled scratch: a MAVLink 2 payload arrives with trailing zeros trimmed. */
const scratch = Buffer.alloc(256);

export class MessageDef<N extends string = string, T extends object = object> {
  readonly fields: readonly FieldLayout[];
  /** Full payload length, extensions included (what MAVLink 2 sends before trimming). */
  readonly length: number;
  /** Base payload length: what MAVLink 1 sends (no extensions). */
  readonly baseLength: number;

  constructor(
    readonly id: number,
    readonly name: N,
    readonly crcExtra: number,
    base: readonly FieldSpec[],
    extensions: readonly FieldSpec[],
  ) {
    let offset = 0;
    const layout = (spec: FieldSpec, extension: boolean): FieldLayout => {
      const [fieldName, type, count = 0] = spec;
      const field = { name: fieldName, wireName: snake(fieldName), type, count, offset, extension };
      offset += SIZE[type] * Math.max(1, count);
      return field;
    };
    const baseFields = base.map((f) => layout(f, false));
    this.baseLength = offset;
    this.fields = [...baseFields, ...extensions.map((f) => layout(f, true))];
    this.length = offset;
  }

  /** Decodes a payload as received: a shorter one is zero-extended, a longer one's extra bytes ignored. */
  decode(payload: Buffer): T {
    let buf = payload;
    if (payload.length < this.length) {
      scratch.fill(0, 0, this.length);
      payload.copy(scratch, 0, 0, payload.length);
      buf = scratch;
    }
    const out: Record<string, unknown> = {};
    for (const f of this.fields) out[f.name] = f.count === 0 ? readScalar(buf, f.type, f.offset) : readArray(buf, f);
    return out as T;
  }

  /**
   * Encodes a payload; absent fields are zero. MAVLink 2 drops extensions' absence by trimming
   * trailing zero bytes, keeping at least one (as the C library's _mav_trim_payload and pymavlink
   * do); MAVLink 1 carries the base fields only.
   */
  encode(values: Partial<T>, version: 1 | 2 = 2): Buffer {
    const v = values as Record<string, unknown>;
    const len = version === 1 ? this.baseLength : this.length;
    const buf = Buffer.alloc(len);
    for (const f of this.fields) {
      if (version === 1 && f.extension) break;
      const value = v[f.name];
      if (value === undefined) continue;
      if (f.count === 0) writeScalar(buf, f.type, f.offset, value);
      else if (f.type === 'char') buf.write(typeof value === 'string' ? value.slice(0, f.count) : '', f.offset, f.count, 'latin1');
      else {
        const items = value as readonly (number | bigint)[];
        for (let i = 0; i < f.count && i < items.length; i++) writeScalar(buf, f.type, f.offset + i * SIZE[f.type], items[i]);
      }
    }
    if (version === 1) return buf;
    let end = len;
    while (end > 1 && buf[end - 1] === 0) end--;
    return buf.subarray(0, end);
  }
}

/** Declares a message; the field types come from the literal definition. */
export function defineMessage<const N extends string, const B extends readonly FieldSpec[], const E extends readonly FieldSpec[] = []>(
  id: number, name: N, crcExtra: number, base: B, extensions?: E,
): MessageDef<N, FieldValues<B> & FieldValues<E>> {
  return new MessageDef(id, name, crcExtra, base, extensions ?? []);
}

function snake(camel: string): string {
  return camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function readScalar(buf: Buffer, type: WireType, o: number): number | bigint {
  switch (type) {
    case 'uint8_t': case 'char': return buf[o]!;
    case 'int8_t': return buf.readInt8(o);
    case 'uint16_t': return buf.readUInt16LE(o);
    case 'int16_t': return buf.readInt16LE(o);
    case 'uint32_t': return buf.readUInt32LE(o);
    case 'int32_t': return buf.readInt32LE(o);
    case 'float': return buf.readFloatLE(o);
    case 'double': return buf.readDoubleLE(o);
    case 'uint64_t': return buf.readBigUInt64LE(o);
    case 'int64_t': return buf.readBigInt64LE(o);
  }
}

function readArray(buf: Buffer, f: FieldLayout): string | (number | bigint)[] {
  if (f.type === 'char') {
    // char[n] is NUL-terminated unless it fills the field (STATUSTEXT.text of exactly 50 chars).
    const end = buf.indexOf(0, f.offset);
    return buf.toString('latin1', f.offset, end === -1 || end > f.offset + f.count ? f.offset + f.count : end);
  }
  const out = new Array<number | bigint>(f.count);
  for (let i = 0; i < f.count; i++) out[i] = readScalar(buf, f.type, f.offset + i * SIZE[f.type]);
  return out;
}

/** Integers wrap to the field's width (as a C cast would) instead of throwing on out-of-range input. */
function writeScalar(buf: Buffer, type: WireType, o: number, value: unknown): void {
  switch (type) {
    case 'uint8_t': case 'char': buf.writeUInt8(Number(value) & 0xff, o); return;
    case 'int8_t': buf.writeInt8((Number(value) << 24) >> 24, o); return;
    case 'uint16_t': buf.writeUInt16LE(Number(value) & 0xffff, o); return;
    case 'int16_t': buf.writeInt16LE((Number(value) << 16) >> 16, o); return;
    case 'uint32_t': buf.writeUInt32LE(Number(value) >>> 0, o); return;
    case 'int32_t': buf.writeInt32LE(Number(value) | 0, o); return;
    case 'float': buf.writeFloatLE(Number(value), o); return;
    case 'double': buf.writeDoubleLE(Number(value), o); return;
    case 'uint64_t': buf.writeBigUInt64LE(BigInt(value as bigint | number), o); return;
    case 'int64_t': buf.writeBigInt64LE(BigInt(value as bigint | number), o); return;
  }
}
