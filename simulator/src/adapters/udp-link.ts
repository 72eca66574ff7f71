import { MavLink, UdpEndpoint, udpTransport, type UdpPeer } from '@aerie/mavlink';
import { SimError } from '../errors.js';
import type { TelemetryStream, VehicleLink, VehicleLinkStats } from '../ports.js';
import type { VehicleInput, VehicleOutput, VehicleSnapshot } from '../domain/types.js';
import { toMavlink, toVehicleInput } from './mavlink-messages.js';
import { telemetryMessage } from './mavlink-telemetry.js';

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

/** MAVLink 2 over one UDP socket, through the shared link layer. */
export async function openUdpVehicleLink(opts: UdpVehicleLinkOptions): Promise<VehicleLink> {
  const host = opts.host ?? '127.0.0.1';
  let endpoint: UdpEndpoint;
  try {
    endpoint = await UdpEndpoint.open({ host, port: opts.port ?? 0, peer: opts.peer ?? null });
  } catch (err) {
    throw new SimError('SIM_ERR_BIND', `vehicle ${opts.sysid}: cannot bind udp ${host}:${opts.port ?? 0}: ${(err as Error).message}`, { cause: err });
  }
  return new UdpVehicleLink(endpoint, new MavLink(udpTransport(endpoint), { sysid: opts.sysid, compid: opts.compid ?? 1, version: 2 }));
}

class UdpVehicleLink implements VehicleLink {
  private readonly listeners: ((input: VehicleInput) => void)[] = [];
  private received = 0;
  private socketErrors = 0;

  constructor(private readonly endpoint: UdpEndpoint, private readonly link: MavLink) {
    endpoint.on('error', () => {
      this.socketErrors += 1;
    });
    link.on('message', (msg, frame) => {
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

  sendEvent(out: VehicleOutput): void {
    this.link.send(toMavlink(out));
  }

  sendTelemetry(stream: TelemetryStream, snapshot: VehicleSnapshot): void {
    this.link.send(telemetryMessage(stream, snapshot));
  }

  stats(): VehicleLinkStats {
    const s = this.link.stats;
    return {
      received: this.received, sent: s.sent, sendDropped: s.sendDropped,
      badFrames: s.badCrc + s.truncated, socketErrors: this.socketErrors,
    };
  }

  close(): Promise<void> {
    this.listeners.length = 0;
    return this.link.close();
  }
}
