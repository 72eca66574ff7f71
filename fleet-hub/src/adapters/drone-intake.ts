import type { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { Client } from 'aedes';
import { FLEET_PREFIX } from '@aerie/contracts';
import { readFixedHeader, type FixedHeader } from '../domain/mqtt-frame.js';

/**
 * The hub's own intake of a drone's statuses and events, read off the drone's connection in
 * front of aedes' parser and publish path.
 *
 * Why: at bench:ingest's 2× overload (~40k DroneStatus/s at QoS 1) aedes' intake took 59 % of the
 * hub's CPU (profile, quiet box): mqtt-packet's parser (a BufferList copy, a Packet object, debug
 * calls), the ACL again, then per message a PUBACK write of its own, a
 * setImmediate, storeRetained → enqueueOffline (a persistence trie match, two promises) →
 * mqemitter (a second trie match) → the hub's in-process subscriber. With the 2 cores shared,
 * that intake fell behind the offered rate and the delay built in the kernel's socket buffers,
 * before the hub's shedding queue saw anything. With this intake the hub spends 10–17 µs of CPU
 * per message at 2× instead of 22–35 (bench:ingest, README).
 *
 * What it does instead, per socket read of a drone's connection (MQTT 3.1 / 3.1.1):
 * - frames the bytes itself (fixed header, remaining length [MQTT-2.2]); a PUBLISH on the
 *   drone's own `fleet/v1/{id}/status` or `…/events`, QoS 0 or 1, not retained, is taken here;
 *   every other packet (CONNECT, PINGREQ, online, cmd/result, retained, QoS 2, another topic,
 *   which the ACL then refuses, anything malformed) is handed whole to aedes' own parser and
 *   handled exactly as before, after the acknowledgements owed so far are written, so PUBACKs
 *   keep the order of the PUBLISHes [MQTT-4.6.0-2];
 * - applies the per-connection limits as before (refused, counted, acknowledged and dropped);
 * - puts the payload straight into the hub's bounded ingest queue (accepted, or counted as shed
 *   by its policy), and only then owes its PUBACK: acknowledged means accepted or counted;
 * - writes the PUBACKs owed by one read in one write, at the end of the read, and refreshes the
 *   keep-alive timer once per read [MQTT-3.1.2-24];
 * - when another client subscribes to a matching filter (the telemetry service, the core), hands
 *   the message to aedes' routing for them as well, as aedes would have (and always once a
 *   persistent session has subscribed to fleet topics: aedes-broker.ts); the hub's in-process
 *   subscription then skips it (it is queued already).
 *
 * aedes 1.x keeps its read loop (lib/client.js nextBatch: the next read once the packets handed
 * to it are done, pause/resume); the intake stands in for the `parse` of the connection's
 * mqtt-packet parser, which that loop calls with each read. Pinned by test/drone-intake.test.ts.
 */

/** What of an aedes 1.x Client the intake uses beyond its typed surface. */
interface ClientInternals {
  _parser: EventEmitter & { parse(buf: Buffer): number; _list: { length: number }; _stateCounter: number };
  connackSent: boolean;
  closed: boolean;
  version: number | null;
  conn: Duplex;
  _keepaliveInterval: number;
  _keepaliveTimer: { refresh(): void } | null;
  pause(): void;
  resume(): void;
  waitForDrain(cb: (err: Error | null) => void): void;
}

/** A PUBLISH taken here, as aedes' publish() wants it when it must route it too. */
export interface ParsedPublish {
  cmd: 'publish';
  topic: string;
  payload: Buffer;
  qos: 0 | 1;
  retain: false;
  dup: boolean;
  messageId?: number;
}

export interface IntakeHooks {
  /** Null until the hub subscribes to the fleet: messages then take aedes' path. */
  sink(): ((topic: string, payload: Buffer) => void) | null;
  /** Per-connection limits; true when the message was refused (and counted, logged) there. */
  refuse(client: Client, topic: string, size: number): boolean;
  /** True when a client other than the hub subscribes to the topic. */
  routed(topic: string): boolean;
  /** Hands the message to aedes' routing for those subscribers. */
  route(client: Client, packet: ParsedPublish): void;
}

const PUBLISH = 3;
// PUBACK: type 4, remaining length 2, packet identifier [MQTT-3.4].
const PUBACK = 0x40;

export class DroneIntake {
  private readonly topics: { buf: Buffer; name: string }[];
  private readonly acks: number[] = [];
  /** Bytes of an incomplete packet, waiting for the next read, and how many the packet needs. */
  private pending: Buffer[] = [];
  private pendingLength = 0;
  private need = 0;
  private readonly header: FixedHeader = { length: 0 };

  private constructor(
    private readonly client: Client & ClientInternals, droneId: string, private readonly hooks: IntakeHooks,
    private readonly aedesParse: (buf: Buffer) => number,
  ) {
    const names = [`${FLEET_PREFIX}/${droneId}/status`, `${FLEET_PREFIX}/${droneId}/events`];
    this.topics = names.map((name) => ({ name, buf: Buffer.from(name, 'utf8') }));
  }

  /**
   * Puts the intake in front of aedes' parser on a drone's connection (aedes' 'client' event:
   * authenticated, CONNACK not yet sent, reads paused). False, and aedes keeps the connection
   * to itself, when aedes' parser already holds part of a packet or the protocol is MQTT 5
   * (its PUBLISH carries properties this framer does not read).
   */
  static attach(client: Client, droneId: string, hooks: IntakeHooks): boolean {
    const c = client as Client & ClientInternals;
    const parser = c._parser;
    if (c.version !== 3 && c.version !== 4) return false;
    if (parser._list.length > 0 || parser._stateCounter !== 0) return false;
    const intake = new DroneIntake(c, droneId, hooks, parser.parse.bind(parser));
    // An own property in front of mqtt-packet's Parser.prototype.parse: every read goes here first.
    parser.parse = (buf: Buffer) => {
      intake.onData(buf);
      return 0;
    };
    return true;
  }

  private onData(chunk: Buffer): void {
    let data = chunk;
    if (this.pendingLength > 0) {
      this.pending.push(chunk);
      this.pendingLength += chunk.length;
      // A big packet arriving over many reads is joined once, when it is complete.
      if (this.pendingLength < this.need) return;
      data = Buffer.concat(this.pending, this.pendingLength);
      this.pending = [];
      this.pendingLength = 0;
    }
    const c = this.client;
    let off = 0;
    while (off < data.length) {
      const b0 = data[off]!;
      const start = readFixedHeader(data, off, this.header);
      // Five length bytes is malformed: aedes' parser says so and drops the connection.
      if (start < 0) return this.toAedes(data.subarray(off));
      if (start === 0) break;
      const end = start + this.header.length;
      if (end > data.length) break;
      if (b0 >> 4 !== PUBLISH || !this.take(b0, data, start, end)) {
        this.toAedes(data.subarray(off, end));
        if (c.closed || c.conn.destroyed) return;
      }
      off = end;
    }
    this.flush();
    if (off < data.length) {
      const rest = Buffer.from(data.subarray(off));
      this.pending = [rest];
      this.pendingLength = rest.length;
      this.need = this.packetLength(rest);
    } else this.need = 0;
  }

  /** Total length of the packet starting `buf` once its header is in, else 0 (wait for more). */
  private packetLength(buf: Buffer): number {
    const start = readFixedHeader(buf, 0, this.header);
    return start > 0 ? start + this.header.length : 0;
  }

  /** aedes' own parser and handlers, for everything not taken here. */
  private toAedes(packet: Buffer): void {
    this.flush();
    this.aedesParse(packet);
  }

  /** A PUBLISH in data[start, end) after its fixed header `b0`; true when taken here. */
  private take(b0: number, data: Buffer, start: number, end: number): boolean {
    const qos = (b0 >> 1) & 3;
    // QoS 2 (PUBREC/PUBREL, aedes' inflight bound), retained (aedes' store), QoS 3 (malformed).
    if (qos > 1 || (b0 & 1) === 1 || !this.client.connackSent) return false;
    if (end - start < 2) return false;
    const topicLength = data.readUInt16BE(start);
    const topicEnd = start + 2 + topicLength;
    const idEnd = topicEnd + (qos === 1 ? 2 : 0);
    if (idEnd > end) return false;
    const topic = this.topics.find((t) => t.buf.length === topicLength && t.buf.compare(data, start + 2, topicEnd) === 0);
    const sink = topic && this.hooks.sink();
    if (!topic || !sink) return false;
    const messageId = qos === 1 ? data.readUInt16BE(topicEnd) : 0;
    // Packet identifier 0 is a protocol error [MQTT-2.3.1-1]: aedes' parser says so.
    if (qos === 1 && messageId === 0) return false;
    if (!this.hooks.refuse(this.client, topic.name, end - idEnd)) {
      // A copy: a view would keep the whole read buffer alive while the payload waits in the queue.
      const payload = Buffer.allocUnsafe(end - idEnd);
      data.copy(payload, 0, idEnd, end);
      sink(topic.name, payload);
      if (this.hooks.routed(topic.name)) {
        this.hooks.route(this.client, { cmd: 'publish', topic: topic.name, payload, qos: qos as 0 | 1, retain: false, dup: (b0 & 8) !== 0, ...(qos === 1 ? { messageId } : {}) });
      }
    }
    if (qos === 1) this.acks.push(messageId);
    return true;
  }

  /** Writes the PUBACKs owed so far in one write; refreshes the keep-alive timer. */
  private flush(): void {
    const c = this.client;
    if (c._keepaliveInterval > 0) c._keepaliveTimer?.refresh();
    const n = this.acks.length;
    if (n === 0) return;
    if (c.closed || c.conn.destroyed) {
      this.acks.length = 0;
      return;
    }
    const buf = Buffer.allocUnsafe(4 * n);
    for (let i = 0; i < n; i++) {
      buf[4 * i] = PUBACK;
      buf[4 * i + 1] = 2;
      buf.writeUInt16BE(this.acks[i]!, 4 * i + 2);
    }
    this.acks.length = 0;
    // A peer that does not read its acknowledgements is not read either, as in aedes, whose
    // drainTimeout drops the connection if it never drains.
    if (!c.conn.write(buf)) {
      c.pause();
      c.waitForDrain((err) => {
        if (!err) c.resume();
      });
    }
  }
}
