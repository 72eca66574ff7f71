/**
 * A minimal MQTT 3.1.1 publisher for bench:ingest, over node:net. Why not mqtt.js: the bench
 * runs the simulated fleet on the same 2 cores as the hub, and one process driving 50 mqtt.js
 * clients at ~36k QoS 1 msg/s cost more CPU than the system under test (its 5 ms pacing tick
 * stalled for 0.4–0.8 s and tens of MB sat unsent in its sockets), so the overload figure
 * measured the publisher, not the hub. Real drones are separate machines. This client does only
 * what the bench needs, as the spec words it (MQTT 3.1.1, OASIS 2014): CONNECT with username,
 * password and a clean session (§3.1), CONNACK return code 0 (§3.2), PUBLISH QoS 1 built by hand
 * into one Buffer (§3.3), PUBACK counted against the packet ids in flight (§3.4), PINGREQ when
 * idle for half the keep-alive (§3.1.2.10, §3.12), DISCONNECT (§3.14). Writes are batched: the
 * caller queues messages during a tick and `flush()` hands the socket one Buffer.
 */
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { readFixedHeader, type FixedHeader } from '../domain/mqtt-frame.js';

const CONNECT = 0x10, CONNACK = 0x20, PUBLISH_QOS1 = 0x32, PUBACK = 0x40, PINGREQ = 0xc0, PINGRESP = 0xd0, DISCONNECT = 0xe0;

/** Remaining length (§2.2.3): 7 bits per byte, high bit = more follows, at most 4 bytes. */
function varintLength(n: number): number {
  return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4;
}

function writeVarint(buf: Buffer, off: number, n: number): number {
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    buf[off++] = b;
  } while (n > 0);
  return off;
}

function utf8Field(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const out = Buffer.allocUnsafe(2 + b.length);
  out.writeUInt16BE(b.length, 0);
  b.copy(out, 2);
  return out;
}

export interface ConnectOptions { clientId: string; username: string; password: string; keepAliveS: number }

/** CONNECT, protocol level 4, flags username + password + clean session (§3.1.2.3). */
export function encodeConnect(o: ConnectOptions): Buffer {
  const variable = Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0xc2, o.keepAliveS >> 8, o.keepAliveS & 0xff]);
  const payload = Buffer.concat([utf8Field(o.clientId), utf8Field(o.username), utf8Field(o.password)]);
  const rl = variable.length + payload.length;
  const head = Buffer.allocUnsafe(1 + varintLength(rl));
  head[0] = CONNECT;
  writeVarint(head, 1, rl);
  return Buffer.concat([head, variable, payload]);
}

/** PUBLISH QoS 1, not retained, not DUP: fixed header, remaining length, topic, packet id, payload. */
export function encodePublishQos1(topic: Buffer, packetId: number, payload: string): Buffer {
  const payloadLen = Buffer.byteLength(payload, 'utf8');
  const rl = 2 + topic.length + 2 + payloadLen;
  const buf = Buffer.allocUnsafe(1 + varintLength(rl) + rl);
  buf[0] = PUBLISH_QOS1;
  let off = writeVarint(buf, 1, rl);
  buf.writeUInt16BE(topic.length, off);
  off += 2;
  off += topic.copy(buf, off);
  buf.writeUInt16BE(packetId, off);
  off += 2;
  buf.write(payload, off, payloadLen, 'utf8');
  return buf;
}

export interface Packet { type: number; flags: number; body: Buffer }

/** Cuts a byte stream into MQTT control packets; a packet may span chunks and a chunk may hold several. */
export class PacketFramer {
  private pending: Buffer = Buffer.alloc(0);
  private readonly header: FixedHeader = { length: 0 };

  push(chunk: Buffer): Packet[] {
    const buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: Packet[] = [];
    let off = 0;
    for (;;) {
      const start = readFixedHeader(buf, off, this.header);
      if (start < 0) throw new Error('MQTT remaining length longer than 4 bytes');
      if (start === 0 || buf.length - start < this.header.length) break;
      out.push({ type: buf[off]! & 0xf0, flags: buf[off]! & 0x0f, body: buf.subarray(start, start + this.header.length) });
      off = start + this.header.length;
    }
    // Copy the tail so a small leftover does not pin a large socket chunk.
    this.pending = off === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(off));
    return out;
  }
}

/** One connection to the broker: queue QoS 1 publishes during a tick, `flush()` writes them at once. */
export class RawMqttPublisher {
  acked = 0;
  sent = 0;
  error: Error | undefined;
  private nextId = 0;
  private readonly inflight = new Uint8Array(65_536);
  private queued: Buffer[] = [];
  private queuedBytes = 0;
  private lastWrite = 0;
  private readonly pinger: NodeJS.Timeout;
  private readonly framer = new PacketFramer();

  private constructor(private readonly socket: Socket, keepAliveS: number) {
    socket.setNoDelay(true);
    this.lastWrite = performance.now();
    this.pinger = setInterval(() => {
      if (performance.now() - this.lastWrite >= (keepAliveS * 1000) / 2) this.write(Buffer.from([PINGREQ, 0]));
    }, (keepAliveS * 1000) / 4);
    this.pinger.unref();
  }

  static async connect(host: string, port: number, o: ConnectOptions): Promise<RawMqttPublisher> {
    const socket = connect({ host, port });
    await once(socket, 'connect');
    const client = new RawMqttPublisher(socket, o.keepAliveS);
    const connack = new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        try {
          for (const p of client.framer.push(chunk)) {
            if (p.type === CONNACK) {
              if (p.body[1] !== 0) throw new Error(`CONNACK return code ${p.body[1]} for ${o.clientId}`);
              resolve();
            } else client.onPacket(p);
          }
        } catch (err) {
          socket.destroy();
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      };
      socket.on('data', onData);
      socket.once('close', () => reject(new Error(`connection closed before CONNACK for ${o.clientId}`)));
      // Kept for the socket's life: a later error closes it and shows up as messages not acked.
      socket.on('error', (err) => {
        client.error ??= err;
        reject(err);
      });
    });
    client.write(encodeConnect(o));
    try {
      await connack;
    } catch (err) {
      clearInterval(client.pinger);
      throw err;
    }
    return client;
  }

  /** Bytes handed to the socket that the kernel has not taken yet. */
  get unsentBytes(): number {
    return this.socket.writableLength + this.queuedBytes;
  }

  get inflightCount(): number {
    return this.sent - this.acked;
  }

  /** Packet ids run 1..65535 and wrap (§2.3.1: 0 is not allowed). */
  publish(topic: Buffer, payload: string): void {
    this.nextId = this.nextId === 65_535 ? 1 : this.nextId + 1;
    const b = encodePublishQos1(topic, this.nextId, payload);
    this.inflight[this.nextId] = 1;
    this.queued.push(b);
    this.queuedBytes += b.length;
    this.sent += 1;
  }

  flush(): void {
    if (this.queued.length === 0) return;
    this.write(this.queued.length === 1 ? this.queued[0]! : Buffer.concat(this.queued, this.queuedBytes));
    this.queued = [];
    this.queuedBytes = 0;
  }

  /** Clean DISCONNECT, then wait for the broker to close the socket (bounded). */
  async end(): Promise<void> {
    clearInterval(this.pinger);
    this.flush();
    if (this.socket.destroyed) return;
    const closed = once(this.socket, 'close').catch(() => undefined);
    this.socket.end(Buffer.from([DISCONNECT, 0]));
    const timer = setTimeout(() => this.socket.destroy(), 2_000);
    await closed;
    clearTimeout(timer);
  }

  private write(b: Buffer): void {
    this.lastWrite = performance.now();
    this.socket.write(b);
  }

  private onPacket(p: Packet): void {
    if (p.type === PUBACK && p.body.length >= 2) {
      const id = p.body.readUInt16BE(0);
      if (this.inflight[id] === 1) {
        this.inflight[id] = 0;
        this.acked += 1;
      }
    } else if (p.type !== PINGRESP) {
      throw new Error(`unexpected MQTT packet type 0x${p.type.toString(16)}`);
    }
  }
}
