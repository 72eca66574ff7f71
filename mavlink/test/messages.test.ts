import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// node-mavlink and mavlink-mappings are the independent oracle here; the codec under test never imports them.
import { common, type MavLinkData, type MavLinkDataConstructor } from 'node-mavlink';
import { MSG_ID_MAGIC_NUMBER, x25crc as oracleCrc } from 'mavlink-mappings';
import {
  BATTERY_STATUS, FrameDecoder, HEARTBEAT, MESSAGES, MavEncoder, MessageLink, PacketEncoder, REGISTRY, STATUSTEXT,
  crcExtraOf, decodeMessage, knownMessageIds, x25crc, type ByteTransport, type MavMessage, type MessageDef, type WireType,
} from '../src/index.js';

interface Vector {
  name: string; msgid: number; sysid: number; compid: number; seq: number; signed: boolean; hex: string;
  fields: Record<string, unknown>;
  signing?: { key_hex: string; link_id: number; timestamp_10us: number };
}
const vectors = JSON.parse(readFileSync(fileURLToPath(new URL('../../../shared/data/pymavlink-vectors.json', import.meta.url)), 'utf8')) as Vector[];

const DEFS = [...MESSAGES.values()];
const oracleClass = (def: MessageDef): MavLinkDataConstructor<MavLinkData> => REGISTRY[def.id] as MavLinkDataConstructor<MavLinkData>;

/** Seeded values across each wire type's whole range (mulberry32). */
function randomValues(def: MessageDef, seed: number): Record<string, unknown> {
  let s = seed >>> 0;
  const rnd = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const one = (type: WireType): number | bigint => {
    switch (type) {
      case 'uint8_t': case 'char': return Math.floor(rnd() * 256);
      case 'int8_t': return Math.floor(rnd() * 256) - 128;
      case 'uint16_t': return Math.floor(rnd() * 65536);
      case 'int16_t': return Math.floor(rnd() * 65536) - 32768;
      case 'uint32_t': return Math.floor(rnd() * 2 ** 32);
      case 'int32_t': return Math.floor(rnd() * 2 ** 32) - 2 ** 31;
      case 'float': return Math.fround((rnd() - 0.5) * 1e6);
      case 'double': return (rnd() - 0.5) * 1e12;
      case 'uint64_t': return (BigInt(Math.floor(rnd() * 2 ** 32)) << 32n) | BigInt(Math.floor(rnd() * 2 ** 32));
      case 'int64_t': return BigInt.asIntN(64, (BigInt(Math.floor(rnd() * 2 ** 32)) << 32n) | BigInt(Math.floor(rnd() * 2 ** 32)));
    }
  };
  const out: Record<string, unknown> = {};
  for (const f of def.fields) {
    if (f.type === 'char') out[f.name] = Array.from({ length: Math.floor(rnd() * f.count) + 1 }, () => String.fromCharCode(32 + Math.floor(rnd() * 95))).join('');
    else out[f.name] = f.count === 0 ? one(f.type) : Array.from({ length: f.count }, () => one(f.type));
  }
  // A zero last byte exercises MAVLink 2 trimming.
  if (seed % 2 === 0) {
    const last = def.fields.at(-1)!;
    out[last.name] = last.type === 'char' ? '' : last.count === 0 ? (last.type.endsWith('64_t') ? 0n : 0) : new Array<number>(last.count).fill(0);
  }
  return out;
}

/** node-mavlink's instance of the same values (its field names, e.g. COMMAND_LONG's _param1). */
function oracleMessage(def: MessageDef, values: Record<string, unknown>): MavLinkData {
  const clazz = oracleClass(def);
  const message = new clazz() as unknown as Record<string, unknown>;
  for (const f of clazz.FIELDS) message[f.name] = values[f.name.replace(/^_/, '')];
  return message;
}

/** node-mavlink's decoded values under the codec's names. */
function oracleFields(message: MavLinkData): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of (message.constructor as MavLinkDataConstructor<MavLinkData>).FIELDS) out[f.name.replace(/^_/, '')] = (message as unknown as Record<string, unknown>)[f.name];
  return out;
}

describe('hand-written codec: layouts', () => {
  it('covers every message the edge agent sends or receives', () => {
    expect(DEFS.map((d) => d.name).sort()).toEqual([
      'BATTERY_STATUS', 'COMMAND_ACK', 'COMMAND_LONG', 'EXTENDED_SYS_STATE', 'GLOBAL_POSITION_INT', 'GPS_RAW_INT', 'HEARTBEAT', 'MISSION_ACK',
      'MISSION_COUNT', 'MISSION_CURRENT', 'MISSION_ITEM_INT', 'MISSION_ITEM_REACHED', 'MISSION_REQUEST', 'MISSION_REQUEST_INT',
      'REQUEST_DATA_STREAM', 'STATUSTEXT', 'SYS_STATUS', 'VFR_HUD',
    ]);
  });

  for (const def of DEFS) {
    it(`${def.name}: id, CRC_EXTRA, length, field order, offsets, types and extensions match node-mavlink's generated class`, () => {
      const clazz = oracleClass(def);
      expect([clazz.MSG_ID, clazz.MSG_NAME, clazz.MAGIC_NUMBER, clazz.PAYLOAD_LENGTH]).toEqual([def.id, def.name, def.crcExtra, def.length]);
      // node-mavlink prefixes COMMAND_LONG's params with '_' (param1 → _param1); the wire names are the XML's.
      expect(def.fields.map((f) => [f.wireName, f.name, f.offset, f.count === 0 ? f.type : `${f.type}[]`, f.count, f.extension])).toEqual(
        clazz.FIELDS.map((f) => [f.source, f.name.replace(/^_/, ''), f.offset, f.type.replace('_mavlink_version', ''), f.length, f.extension]),
      );
      expect(crcExtraOf(def.id)).toBe(def.crcExtra);
    });
  }

  it('the CRC_EXTRA table equals mavlink-mappings\' table for every id of every dialect', () => {
    const oracle = MSG_ID_MAGIC_NUMBER;
    expect(knownMessageIds().sort((a, b) => a - b)).toEqual(Object.keys(oracle).map(Number).sort((a, b) => a - b));
    for (const id of knownMessageIds()) expect(crcExtraOf(id), `msgid ${id}`).toBe(oracle[id]);
    expect(crcExtraOf(60_999)).toBeUndefined();
  });

  for (const def of DEFS) {
    it(`${def.name}: CRC_EXTRA recomputed from the field definitions (MAVLink serialization, "CRC_EXTRA calculation")`, () => {
      let text = `${def.name} `;
      const lengths: number[] = [];
      for (const f of def.fields.filter((x) => !x.extension)) {
        text += `${f.type} ${f.wireName} `;
        if (f.count > 0) lengths.push(text.length);
      }
      const bytes = [...Buffer.from(text, 'latin1')];
      // Array lengths are one raw byte each, right after the field's name.
      for (const [i, at] of lengths.entries()) bytes.splice(at + i, 0, def.fields.filter((x) => !x.extension && x.count > 0)[i]!.count);
      const crc = x25crc(Uint8Array.from(bytes), 0, bytes.length);
      expect((crc & 0xff) ^ (crc >> 8)).toBe(def.crcExtra);
    });
  }

  it('x25crc equals the reference implementation', () => {
    const buf = Buffer.from(Array.from({ length: 302 }, (_, i) => (i * 37 + 11) & 0xff));
    for (const [start, end, extra] of [[1, 300, 50], [0, 1, 0], [5, 77, 255], [1, 1, 124]] as const) {
      expect(x25crc(buf, start, end, extra)).toBe(oracleCrc(buf.subarray(0, end + 2), start, 2, extra));
    }
  });
});

describe('hand-written codec against node-mavlink, field for field and byte for byte', () => {
  for (const def of DEFS) {
    it(`${def.name}: 20 seeded messages encode to node-mavlink's bytes and decode node-mavlink's bytes to its values`, () => {
      for (let seed = 1; seed <= 20; seed++) {
        const values = randomValues(def, seed * 7919 + def.id);
        const oracle = oracleMessage(def, values);
        const theirs = new MavEncoder({ sysid: 42, compid: 191 }).encodeWithSeq(oracle, seed);
        const ours = new PacketEncoder({ sysid: 42, compid: 191 }).encodeWithSeq(def, values, seed);
        if (theirs[1] === 0) {
          // All-zero payload: node-mavlink trims it to nothing; the C library and pymavlink keep one byte (as we do).
          expect([ours[1], ours[10]]).toEqual([1, 0]);
        } else expect(ours.toString('hex'), `${def.name} seed ${seed}`).toBe(theirs.toString('hex'));

        const frames = new FrameDecoder(crcExtraOf).pushDatagram(theirs);
        expect(frames).toHaveLength(1);
        const decoded = decodeMessage(frames[0]!)!;
        expect(decoded.name).toBe(def.name);
        expect(decoded.fields).toEqual(oracleFields(oracle));
      }
    });
  }

  it('MAVLink 1 (no extensions on the wire) matches node-mavlink for messages without extensions, and decodes extensions as zero', () => {
    for (const def of DEFS.filter((d) => d.fields.every((f) => !f.extension))) {
      const values = randomValues(def, 99);
      const theirs = new MavEncoder({ sysid: 1, compid: 1, version: 1 }).encodeWithSeq(oracleMessage(def, values), 3);
      expect(new PacketEncoder({ sysid: 1, compid: 1, version: 1 }).encodeWithSeq(def, values, 3).toString('hex'), def.name).toBe(theirs.toString('hex'));
    }
    const v1 = new PacketEncoder({ sysid: 1, compid: 1, version: 1 }).encodeWithSeq(BATTERY_STATUS, { id: 0, batteryRemaining: 55, timeRemaining: 900, voltagesExt: [1, 2, 3, 4] }, 0);
    expect(v1[1]).toBe(BATTERY_STATUS.baseLength);
    const decoded = decodeMessage(new FrameDecoder(crcExtraOf).pushDatagram(v1)[0]!);
    expect(decoded).toMatchObject({ name: 'BATTERY_STATUS', fields: { batteryRemaining: 55, timeRemaining: 0, voltagesExt: [0, 0, 0, 0], faultBitmask: 0 } });
  });

  it('MAVLink 2 trims trailing zeros but keeps one payload byte (C library, pymavlink), and zero-extends on decode', () => {
    const zero = new PacketEncoder({ sysid: 1, compid: 1 }).encodeWithSeq(HEARTBEAT, {}, 0);
    expect(zero[1]).toBe(1);
    const frame = new FrameDecoder(crcExtraOf).pushDatagram(zero)[0]!;
    expect(decodeMessage(frame)).toEqual({ name: 'HEARTBEAT', fields: { customMode: 0, type: 0, autopilot: 0, baseMode: 0, systemStatus: 0, mavlinkVersion: 0 } });
  });

  it('a payload longer than this side knows (a newer extension) decodes the known fields and ignores the rest', () => {
    const payload = Buffer.concat([STATUSTEXT.encode({ severity: 4, text: 'x'.repeat(50), id: 7, chunkSeq: 1 }), Buffer.from([9, 9, 9])]);
    expect(STATUSTEXT.decode(payload)).toEqual({ severity: 4, text: 'x'.repeat(50), id: 7, chunkSeq: 1 });
  });
});

describe('hand-written codec against pymavlink\'s vectors', () => {
  for (const v of vectors) {
    it(`${v.name}: decodes field for field and re-encodes byte for byte`, () => {
      const bytes = Buffer.from(v.hex, 'hex');
      const frame = new FrameDecoder(crcExtraOf).pushDatagram(bytes)[0]!;
      const message = decodeMessage(frame)!;
      const def = MESSAGES.get(v.msgid)!;
      const byWire: Record<string, unknown> = {};
      for (const f of def.fields) byWire[f.wireName] = (message.fields as Record<string, unknown>)[f.name];
      for (const [name, expected] of Object.entries(v.fields)) {
        const got = byWire[name];
        // pymavlink's JSON writes NaN (MISSION_ITEM_INT param4 = yaw "unchanged") as the string 'NaN'.
        const norm = (x: unknown): unknown => (typeof x === 'bigint' ? Number(x) : Number.isNaN(x) ? 'NaN' : typeof x === 'number' && !Number.isInteger(x) ? Math.fround(x) : x);
        expect(Array.isArray(got) ? got.map(norm) : norm(got), `${v.name}.${name}`).toEqual(Array.isArray(expected) ? expected.map(norm) : norm(expected));
      }
      const signing = v.signing ? { key: Buffer.from(v.signing.key_hex, 'hex'), linkId: v.signing.link_id } : null;
      const encoder = new PacketEncoder({ sysid: v.sysid, compid: v.compid, signing });
      expect(encoder.encodeWithSeq(def, message.fields, v.seq, v.signing?.timestamp_10us).toString('hex')).toBe(v.hex);
    });
  }
});

describe('MessageLink', () => {
  it('emits the codec\'s messages, and counts but skips ids it does not decode or does not know', () => {
    let deliver: (chunk: Buffer) => void = () => undefined;
    const sent: Buffer[] = [];
    const transport: ByteTransport = { framing: 'stream', send: (d) => (sent.push(d), true), onData: (l) => void (deliver = l), close: () => Promise.resolve() };
    const link = new MessageLink(transport, { sysid: 255, compid: 190 });
    const got: MavMessage[] = [];
    link.on('message', (m) => got.push(m));
    const fc = new PacketEncoder({ sysid: 1, compid: 1 });
    const unknownId = Buffer.from('fd010000000101563412ffffff', 'hex'); // msgid 0x123456: no dialect defines it
    const attitude = new MavEncoder({ sysid: 1, compid: 1 }).encode(Object.assign(new common.Attitude(), { roll: 0.1 })); // valid, not in the codec
    deliver(Buffer.concat([
      fc.encode(HEARTBEAT, { type: 2, autopilot: 12, baseMode: 157, customMode: 67371008, systemStatus: 4, mavlinkVersion: 3 }),
      attitude, unknownId, Buffer.from([0xfd, 0x05, 0x00]), // a truncated start, then a valid packet
      fc.encode(STATUSTEXT, { severity: 2, text: 'Battery 1 is low' }),
    ]));
    expect(got.map((m) => m.name)).toEqual(['HEARTBEAT', 'STATUSTEXT']);
    expect(got[1]).toMatchObject({ fields: { severity: 2, text: 'Battery 1 is low' } });
    expect(link.stats).toMatchObject({ frames: 3, unknownMsgid: 1 });
    expect(link.send(HEARTBEAT, { type: 18, autopilot: 8, mavlinkVersion: 3 })).toBe(true);
    expect(sent[0]![0]).toBe(0xfd);
    expect(link.stats.sent).toBe(1);
  });
});
