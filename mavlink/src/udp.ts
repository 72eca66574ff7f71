import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';

export interface UdpPeer {
  address: string;
  port: number;
}

export interface UdpEndpointOptions {
  /** Local address to bind; loopback by default. */
  host?: string;
  /** Local port; 0 picks a free one. */
  port?: number;
  /** Fixed peer to send to; when absent the peer is learned from the first datagram received. */
  peer?: UdpPeer | null;
}

export interface UdpEndpointEvents {
  datagram: [data: Buffer, from: RemoteInfo];
  error: [err: Error];
}

/**
 * A UDP datagram endpoint that replies to the peer's actual address and port (node-mavlink's
 * MavEsp8266 learns the address but keeps its own configured port, so replies go astray).
 */
export class UdpEndpoint extends EventEmitter<UdpEndpointEvents> {
  private peerInfo: UdpPeer | null;
  private closed = false;

  private constructor(private readonly socket: Socket, fixedPeer: UdpPeer | null) {
    super();
    this.peerInfo = fixedPeer;
    socket.on('message', (msg, rinfo) => {
      if (!fixedPeer) this.peerInfo = { address: rinfo.address, port: rinfo.port };
      this.emit('datagram', msg, rinfo);
    });
    // A datagram socket reports ICMP port-unreachable and similar as errors; they are not fatal.
    socket.on('error', (err) => this.emit('error', err));
  }

  static async open(opts: UdpEndpointOptions = {}): Promise<UdpEndpoint> {
    const socket = createSocket({ type: 'udp4', reuseAddr: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new UdpEndpoint(socket, opts.peer ?? null);
  }

  get port(): number {
    return this.socket.address().port;
  }

  get peer(): UdpPeer | null {
    return this.peerInfo;
  }

  /** Sends to the peer; false when no peer is known yet or the endpoint is closed. */
  send(data: Buffer): boolean {
    const peer = this.peerInfo;
    if (!peer || this.closed) return false;
    this.socket.send(data, peer.port, peer.address, (err) => {
      if (err && !this.closed) this.emit('error', err);
    });
    return true;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}
