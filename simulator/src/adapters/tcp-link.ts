import { createServer, type Server, type Socket } from 'node:net';
import type { MavLinkData } from 'node-mavlink';
import { MavLink, type ByteTransport, type MavFrame, type SigningConfig } from '@aerie/mavlink';
import { SimError } from '../errors.js';
import type { VehicleLink } from '../ports.js';
import { MavVehicleLink, type MavWire } from './mavlink-vehicle-link.js';
import { incomingPolicy } from './incoming-signing.js';

export interface TcpVehicleLinkOptions {
  sysid: number;
  /** MAV_COMP_ID_AUTOPILOT1 by default. */
  compid?: number;
  host?: string;
  /** 0 listens on an ephemeral port (ArduPilot SITL: 5760 + 10 × instance). */
  port?: number;
  /** Sign every outgoing packet (MAVLink 2 signing). */
  signing?: SigningConfig | null;
}

/** Telemetry is written in the same batches as over UDP; TCP has no datagram limit to respect. */
const MAX_BATCH = 1400;
/** A client that stops reading loses telemetry past this much unsent data, never our memory. */
const MAX_BACKLOG_BYTES = 256 * 1024;

/**
 * MAVLink 2 on a TCP server, as ArduPilot SITL serves tcp:5760: one client at a time, and the
 * stream starts again for whoever connects next. A new connection replaces the current one (a
 * client that vanished without a FIN would otherwise hold the port forever); each connection
 * has its own frame decoder, so a packet cut by a disconnect cannot spoil the next client's.
 */
export async function openTcpVehicleLink(opts: TcpVehicleLinkOptions): Promise<VehicleLink> {
  const host = opts.host ?? '127.0.0.1';
  const server = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    throw new SimError('SIM_ERR_BIND', `vehicle ${opts.sysid}: cannot listen on tcp ${host}:${opts.port ?? 0}: ${(err as Error).message}`, { cause: err });
  }
  const compid = opts.compid ?? 1;
  return new MavVehicleLink(new TcpServerWire(server, opts.sysid, compid, opts.signing ?? null), { sysid: opts.sysid, compid, maxBatchBytes: MAX_BATCH, signing: opts.signing });
}

interface Connection {
  socket: Socket;
  link: MavLink;
}

class TcpServerWire implements MavWire {
  readonly port: number;
  private readonly listeners: ((message: MavLinkData, frame: MavFrame) => void)[] = [];
  private client: Connection | null = null;
  /** Bad frames of connections already closed. */
  private badFramesBefore = 0;
  private socketErrors = 0;

  constructor(
    private readonly server: Server,
    private readonly sysid: number,
    private readonly compid: number,
    private readonly signing: SigningConfig | null,
  ) {
    const address = server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
    server.on('connection', (socket) => this.accept(socket));
    server.on('error', () => {
      this.socketErrors += 1;
    });
  }

  send(data: Buffer): boolean {
    const socket = this.client?.socket;
    if (!socket || !socket.writable || socket.writableLength > MAX_BACKLOG_BYTES) return false;
    socket.write(data);
    return true;
  }

  onMessage(listener: (message: MavLinkData, frame: MavFrame) => void): void {
    this.listeners.push(listener);
  }

  stats(): { badFrames: number; socketErrors: number } {
    const s = this.client?.link.stats;
    return { badFrames: this.badFramesBefore + (s ? s.badCrc + s.truncated : 0), socketErrors: this.socketErrors };
  }

  async close(): Promise<void> {
    this.listeners.length = 0;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.client?.socket.destroy();
    this.client = null;
    await closed;
  }

  private accept(socket: Socket): void {
    this.client?.socket.destroy();
    // ECONNRESET, EPIPE and the like end the connection ('close' follows); they never reach the process.
    socket.on('error', () => {
      this.socketErrors += 1;
    });
    socket.setNoDelay(true);
    const transport: ByteTransport = {
      framing: 'stream',
      send: (data) => socket.write(data),
      onData: (listener) => socket.on('data', listener),
      close: () => {
        socket.destroy();
        return Promise.resolve();
      },
    };
    const link = new MavLink(transport, { sysid: this.sysid, compid: this.compid, version: 2 }, { incomingSigning: incomingPolicy(this.signing) });
    link.on('message', (message, frame) => {
      for (const l of this.listeners) l(message, frame);
    });
    const conn: Connection = { socket, link };
    this.client = conn;
    socket.on('close', () => {
      const s = link.stats;
      this.badFramesBefore += s.badCrc + s.truncated;
      link.removeAllListeners();
      if (this.client === conn) this.client = null;
    });
  }
}
