import { MavLink, UdpEndpoint, udpTransport, type SigningConfig, type UdpPeer } from '@aerie/mavlink';
import { SimError } from '../errors.js';
import type { VehicleLink } from '../ports.js';
import { MavVehicleLink, type MavWire } from './mavlink-vehicle-link.js';
import { incomingPolicy } from './incoming-signing.js';

export interface UdpVehicleLinkOptions {
  sysid: number;
  /** MAV_COMP_ID_AUTOPILOT1 by default. */
  compid?: number;
  host?: string;
  /** 0 binds an ephemeral port. */
  port?: number;
  /** Where to send; null replies to whoever sent to the vehicle last. */
  peer?: UdpPeer | null;
  /** Sign every outgoing packet (MAVLink 2 signing). */
  signing?: SigningConfig | null;
}

/** Stay under a 1500-byte Ethernet MTU so a datagram is never fragmented. */
const MAX_DATAGRAM = 1400;

/** MAVLink 2 over one UDP socket: the shared link layer decodes, MavVehicleLink encodes. */
export async function openUdpVehicleLink(opts: UdpVehicleLinkOptions): Promise<VehicleLink> {
  const host = opts.host ?? '127.0.0.1';
  let endpoint: UdpEndpoint;
  try {
    endpoint = await UdpEndpoint.open({ host, port: opts.port ?? 0, peer: opts.peer ?? null });
  } catch (err) {
    throw new SimError('SIM_ERR_BIND', `vehicle ${opts.sysid}: cannot bind udp ${host}:${opts.port ?? 0}: ${(err as Error).message}`, { cause: err });
  }
  const compid = opts.compid ?? 1;
  return new MavVehicleLink(udpWire(endpoint, opts.sysid, compid, opts.signing ?? null), { sysid: opts.sysid, compid, maxBatchBytes: MAX_DATAGRAM, signing: opts.signing });
}

function udpWire(endpoint: UdpEndpoint, sysid: number, compid: number, signing: SigningConfig | null): MavWire {
  const link = new MavLink(udpTransport(endpoint), { sysid, compid, version: 2 }, { incomingSigning: incomingPolicy(signing) });
  let socketErrors = 0;
  endpoint.on('error', () => {
    socketErrors += 1;
  });
  return {
    port: endpoint.port,
    send: (data) => endpoint.send(data),
    onMessage: (listener) => link.on('message', listener),
    stats: () => ({ badFrames: link.stats.badCrc + link.stats.truncated, socketErrors }),
    close: () => link.close(),
  };
}
