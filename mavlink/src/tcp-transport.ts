import { connect, type Socket } from 'node:net';
import { EventEmitter } from 'node:events';
import type { ByteTransport } from './link-base.js';

export interface TcpClientOptions {
  host: string;
  port: number;
  /** First reconnect delay; doubles per failed attempt up to maxBackoffMs, reset on connect. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export interface TcpClientStats {
  connects: number;
  failures: number;
  bytesIn: number;
  bytesOut: number;
}

export interface TcpClientEvents {
  connected: [];
  /** The connection ended or an attempt failed; the next attempt is in `retryInMs`. */
  disconnected: [reason: string, retryInMs: number];
}

/**
 * A MAVLink TCP client (ArduPilot SITL listens on 5760, mavlink-router on 5760/5790) that keeps
 * reconnecting with exponential backoff. Every socket error is handled here: a refused or reset
 * connection is a state, never an exception (node-mavlink's TCP helper throws on ECONNREFUSED
 * and takes the process down).
 */
export class TcpClientTransport extends EventEmitter<TcpClientEvents> implements ByteTransport {
  readonly framing = 'stream' as const;
  readonly stats: TcpClientStats = { connects: 0, failures: 0, bytesIn: 0, bytesOut: 0 };
  private socket: Socket | null = null;
  private connected = false;
  private closed = false;
  private backoffMs: number;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly dataListeners: ((chunk: Buffer) => void)[] = [];

  constructor(private readonly opts: TcpClientOptions) {
    super();
    this.backoffMs = opts.minBackoffMs ?? 250;
    this.attempt();
  }

  get isConnected(): boolean {
    return this.connected;
  }

  private attempt(): void {
    if (this.closed) return;
    const socket = connect({ host: this.opts.host, port: this.opts.port });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('connect', () => {
      this.connected = true;
      this.stats.connects += 1;
      this.backoffMs = this.opts.minBackoffMs ?? 250;
      this.emit('connected');
    });
    socket.on('data', (chunk: Buffer) => {
      this.stats.bytesIn += chunk.length;
      for (const l of this.dataListeners) l(chunk);
    });
    let reason = 'closed by peer';
    socket.on('error', (err: NodeJS.ErrnoException) => {
      reason = err.code ?? err.message;
    });
    socket.on('close', () => {
      const wasConnected = this.connected;
      this.connected = false;
      this.socket = null;
      if (this.closed) return;
      if (!wasConnected) this.stats.failures += 1;
      const delay = this.backoffMs;
      this.backoffMs = Math.min(this.backoffMs * 2, this.opts.maxBackoffMs ?? 5000);
      this.emit('disconnected', reason, delay);
      this.retryTimer = setTimeout(() => this.attempt(), delay);
    });
  }

  /** False while disconnected: MAVLink is a live stream, so nothing is queued for later. */
  send(data: Buffer): boolean {
    if (!this.connected || !this.socket) return false;
    this.stats.bytesOut += data.length;
    this.socket.write(data);
    return true;
  }

  onData(listener: (chunk: Buffer) => void): void {
    this.dataListeners.push(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const socket = this.socket;
    if (!socket) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.destroy();
    });
  }
}
