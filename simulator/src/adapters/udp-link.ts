import type { MavLinkData } from 'node-mavlink';
import { MavEncoder, MavLink, UdpEndpoint, udpTransport, type UdpPeer } from '@aerie/mavlink';
import { SimError } from '../errors.js';
import type { LinkImpairment, TelemetryStream, VehicleLink, VehicleLinkStats } from '../ports.js';
import type { Rng } from '../domain/random.js';
import type { VehicleInput, VehicleOutput, VehicleSnapshot } from '../domain/types.js';
import { toMavlink, toVehicleInput } from './mavlink-messages.js';
import { telemetryMessage } from './mavlink-telemetry.js';
import { FastEncoder, MAX_PACKET } from './fast-encoder.js';

export interface UdpVehicleLinkOptions {
  sysid: number;
  /** MAV_COMP_ID_AUTOPILOT1 by default. */
  compid?: number;
  host?: string;
  /** 0 binds an ephemeral port. */
  port?: number;
  /** Where to send; null replies to whoever sent to the vehicle last. */
  peer?: UdpPeer | null;
}

/** Stay under a 1500-byte Ethernet MTU so a datagram is never fragmented. */
const MAX_DATAGRAM = 1400;

/** MAVLink 2 over one UDP socket: the shared link layer decodes, this link encodes. */
export async function openUdpVehicleLink(opts: UdpVehicleLinkOptions): Promise<VehicleLink> {
  const host = opts.host ?? '127.0.0.1';
  let endpoint: UdpEndpoint;
  try {
    endpoint = await UdpEndpoint.open({ host, port: opts.port ?? 0, peer: opts.peer ?? null });
  } catch (err) {
    throw new SimError('SIM_ERR_BIND', `vehicle ${opts.sysid}: cannot bind udp ${host}:${opts.port ?? 0}: ${(err as Error).message}`, { cause: err });
  }
  return new UdpVehicleLink(endpoint, opts.sysid, opts.compid ?? 1);
}

/**
 * Receiving goes through the shared MavLink (framing, CRC, decode). Sending does not: telemetry
 * is written by a FastEncoder into one buffer and sent as one datagram per flush() (MAVLink over
 * UDP allows several packets per datagram, and ArduPilot's SITL sends them so); events are
 * encoded by node-mavlink and sent at once. Both draw on one sequence counter, so the receiver
 * sees an unbroken MAVLink sequence and counts no loss.
 */
class UdpVehicleLink implements VehicleLink {
  private readonly listeners: ((input: VehicleInput) => void)[] = [];
  private readonly link: MavLink;
  private readonly encoder: MavEncoder;
  private readonly fast: FastEncoder;
  private readonly reuse = new Map<TelemetryStream, MavLinkData>();
  private readonly datagram = Buffer.allocUnsafe(MAX_DATAGRAM);
  private pendingBytes = 0;
  private pendingPackets = 0;
  private seq = 0;
  private received = 0;
  private sent = 0;
  private sendDropped = 0;
  private socketErrors = 0;
  private impairment: LinkImpairment | null = null;
  private rng: Rng | null = null;

  constructor(private readonly endpoint: UdpEndpoint, sysid: number, compid: number) {
    this.link = new MavLink(udpTransport(endpoint), { sysid, compid, version: 2 });
    this.encoder = new MavEncoder({ sysid, compid, version: 2 });
    this.fast = new FastEncoder(sysid, compid);
    endpoint.on('error', () => {
      this.socketErrors += 1;
    });
    this.link.on('message', (msg, frame) => {
      if (this.impairment?.down) return;
      this.received += 1;
      const input = toVehicleInput(msg, frame);
      if (input) for (const l of this.listeners) l(input);
    });
  }

  get port(): number {
    return this.endpoint.port;
  }

  onInput(listener: (input: VehicleInput) => void): void {
    this.listeners.push(listener);
  }

  impair(impairment: LinkImpairment, rng: Rng): void {
    this.impairment = impairment;
    this.rng = rng;
  }

  sendEvent(out: VehicleOutput): void {
    this.count(this.transmit(this.encoder.encodeWithSeq(toMavlink(out), this.nextSeq())), 1);
  }

  sendTelemetry(stream: TelemetryStream, snapshot: VehicleSnapshot): void {
    const msg = telemetryMessage(stream, snapshot, this.reuse.get(stream));
    this.reuse.set(stream, msg);
    if (this.pendingBytes + MAX_PACKET > MAX_DATAGRAM) this.flush();
    this.pendingBytes += this.fast.write(msg, this.nextSeq(), this.datagram, this.pendingBytes);
    this.pendingPackets += 1;
  }

  flush(): void {
    if (this.pendingPackets === 0) return;
    // A copy: dgram may still hold the buffer after send() returns, and ours is reused.
    const data = Buffer.from(this.datagram.subarray(0, this.pendingBytes));
    const n = this.pendingPackets;
    this.pendingBytes = 0;
    this.pendingPackets = 0;
    this.count(this.transmit(data), n);
  }

  stats(): VehicleLinkStats {
    const s = this.link.stats;
    return {
      received: this.received, sent: this.sent, sendDropped: this.sendDropped,
      badFrames: s.badCrc + s.truncated, socketErrors: this.socketErrors,
    };
  }

  close(): Promise<void> {
    this.listeners.length = 0;
    this.pendingBytes = 0;
    this.pendingPackets = 0;
    return this.link.close();
  }

  /** Sends through the injected faults: nothing while the link is down, a flipped byte now and then. */
  private transmit(data: Buffer): boolean {
    const imp = this.impairment;
    if (imp?.down) return false;
    if (imp && imp.corruptRate > 0 && this.rng && this.rng.next() < imp.corruptRate) {
      data[Math.floor(this.rng.next() * data.length)]! ^= 1 << Math.floor(this.rng.next() * 8);
    }
    return this.endpoint.send(data);
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
