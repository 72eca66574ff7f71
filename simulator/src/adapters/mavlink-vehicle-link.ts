import type { MavLinkData } from 'node-mavlink';
import { MavEncoder, computeSignature, signingTimestampFromMs, type MavFrame, type SigningConfig } from '@aerie/mavlink';
import type { LinkImpairment, TelemetryStream, VehicleLink, VehicleLinkStats } from '../ports.js';
import type { Rng } from '../domain/random.js';
import type { VehicleInput, VehicleOutput, VehicleSnapshot } from '../domain/types.js';
import { toMavlink, toVehicleInput } from './mavlink-messages.js';
import { telemetryMessage } from './mavlink-telemetry.js';
import { FastEncoder, MAX_PACKET, SIGNATURE_LEN } from './fast-encoder.js';

/** What a vehicle link needs from its socket: decoded frames in, whole packets out. */
export interface MavWire {
  /** Local port bound. */
  readonly port: number;
  /** Writes one or more whole packets; false when there is nobody to send to (no peer, no client). */
  send(data: Buffer): boolean;
  onMessage(listener: (message: MavLinkData, frame: MavFrame) => void): void;
  /** Frames that failed CRC or were cut short, and socket errors: counted, never thrown. */
  stats(): { badFrames: number; socketErrors: number };
  close(): Promise<void>;
}

export interface MavVehicleLinkOptions {
  sysid: number;
  compid: number;
  /** Packets held until flush() are written together up to this many bytes. */
  maxBatchBytes: number;
  /** [MAVLink 2 signing] sign every outgoing packet with this key and link id. */
  signing?: SigningConfig | null;
  /** Wall clock for signing timestamps, ms since 1970 (Date.now): receivers compare them with theirs. */
  now?: () => number;
}

/**
 * The vehicle's MAVLink 2 sender over any wire. Telemetry is written by a FastEncoder into one
 * buffer and sent as one write per flush() (one datagram on UDP: MAVLink over UDP allows several
 * packets per datagram, and ArduPilot's SITL sends them so); events are encoded by node-mavlink
 * and sent at once, after anything held. Both draw on one sequence counter and, when signing, on
 * one signing timestamp that strictly increases per link, so packets leave in sequence and
 * timestamp order and a receiver's replay check passes every one.
 */
export class MavVehicleLink implements VehicleLink {
  private readonly listeners: ((input: VehicleInput) => void)[] = [];
  private readonly encoder: MavEncoder;
  private readonly fast: FastEncoder;
  private readonly signing: SigningConfig | null;
  private readonly now: () => number;
  private readonly maxPacket: number;
  private readonly reuse = new Map<TelemetryStream, MavLinkData>();
  private readonly batch: Buffer;
  private pendingBytes = 0;
  private pendingPackets = 0;
  private seq = 0;
  private lastSigningTs = 0;
  private received = 0;
  private sent = 0;
  private sendDropped = 0;
  private impairment: LinkImpairment | null = null;
  private rng: Rng | null = null;

  constructor(private readonly wire: MavWire, private readonly opts: MavVehicleLinkOptions) {
    this.signing = opts.signing ?? null;
    if (this.signing && this.signing.key.length !== 32) throw new Error('a MAVLink 2 signing key is 32 bytes');
    this.encoder = new MavEncoder({ sysid: opts.sysid, compid: opts.compid, version: 2, signing: this.signing });
    this.fast = new FastEncoder(opts.sysid, opts.compid, { signed: this.signing !== null });
    this.now = opts.now ?? Date.now;
    this.maxPacket = MAX_PACKET + (this.signing ? SIGNATURE_LEN : 0);
    this.batch = Buffer.allocUnsafe(Math.max(opts.maxBatchBytes, this.maxPacket));
    wire.onMessage((msg, frame) => {
      if (this.impairment?.down) return;
      this.received += 1;
      const input = toVehicleInput(msg, frame);
      if (input) for (const l of this.listeners) l(input);
    });
  }

  get port(): number {
    return this.wire.port;
  }

  onInput(listener: (input: VehicleInput) => void): void {
    this.listeners.push(listener);
  }

  impair(impairment: LinkImpairment, rng: Rng): void {
    this.impairment = impairment;
    this.rng = rng;
  }

  sendEvent(out: VehicleOutput): void {
    this.flush();
    const ts = this.signing ? this.nextSigningTimestamp() : undefined;
    this.count(this.transmit(this.encoder.encodeWithSeq(toMavlink(out), this.nextSeq(), ts)), 1);
  }

  sendTelemetry(stream: TelemetryStream, snapshot: VehicleSnapshot): void {
    const msg = telemetryMessage(stream, snapshot, this.reuse.get(stream));
    this.reuse.set(stream, msg);
    if (this.pendingBytes + this.maxPacket > this.batch.length) this.flush();
    const at = this.pendingBytes;
    let len = this.fast.write(msg, this.nextSeq(), this.batch, at);
    if (this.signing) len += this.sign(at, len);
    this.pendingBytes += len;
    this.pendingPackets += 1;
  }

  flush(): void {
    if (this.pendingPackets === 0) return;
    // A copy: the socket may still hold the buffer after send() returns, and ours is reused.
    const data = Buffer.from(this.batch.subarray(0, this.pendingBytes));
    const n = this.pendingPackets;
    this.pendingBytes = 0;
    this.pendingPackets = 0;
    this.count(this.transmit(data), n);
  }

  stats(): VehicleLinkStats {
    return { received: this.received, sent: this.sent, sendDropped: this.sendDropped, ...this.wire.stats() };
  }

  close(): Promise<void> {
    this.listeners.length = 0;
    this.pendingBytes = 0;
    this.pendingPackets = 0;
    return this.wire.close();
  }

  /** [MAVLink 2 signing] appends link id, timestamp and signature to the packet at `at`; returns 13. */
  private sign(at: number, len: number): number {
    const { key, linkId } = this.signing!;
    const ts = this.nextSigningTimestamp();
    const end = at + len;
    this.batch.writeUInt8(linkId, end);
    this.batch.writeUIntLE(ts, end + 1, 6);
    computeSignature(key, this.batch.subarray(at, end), linkId, ts).copy(this.batch, end + 7);
    return SIGNATURE_LEN;
  }

  /** [MAVLink 2 signing] timestamps (10 µs since 2015) strictly increase per link, even within one tick. */
  private nextSigningTimestamp(): number {
    this.lastSigningTs = Math.max(signingTimestampFromMs(this.now()), this.lastSigningTs + 1);
    return this.lastSigningTs;
  }

  /** Sends through the injected faults: nothing while the link is down, a flipped bit now and then. */
  private transmit(data: Buffer): boolean {
    const imp = this.impairment;
    if (imp?.down) return false;
    if (imp && imp.corruptRate > 0 && this.rng && this.rng.next() < imp.corruptRate) {
      data[Math.floor(this.rng.next() * data.length)]! ^= 1 << Math.floor(this.rng.next() * 8);
    }
    return this.wire.send(data);
  }

  private nextSeq(): number {
    const seq = this.seq;
    this.seq = (seq + 1) & 0xff;
    return seq;
  }

  private count(ok: boolean, packets: number): void {
    if (ok) this.sent += packets;
    else this.sendDropped += packets;
  }
}
