import { EventEmitter } from 'node:events';
import type { SerialPort } from 'serialport';
import type { ByteTransport } from './link-base.js';

export interface SerialOptions {
  /** Device path, e.g. /dev/ttyAMA0 (Raspberry Pi UART), /dev/ttyACM0 (USB), /dev/serial/by-id/… */
  path: string;
  /** Flight controllers' TELEM ports default to 57600 (ArduPilot SERIALn_BAUD) or 921600 (PX4 companion). */
  baudRate: number;
  /** Delay before reopening after the device vanished or failed to open. */
  reopenMs?: number;
}

export interface SerialEvents {
  open: [];
  /** The port failed to open or closed; the next attempt is in `retryInMs`. */
  down: [reason: string, retryInMs: number];
}

/**
 * A serial MAVLink link that reopens the device when it goes away (a USB flight controller
 * rebooting re-enumerates its ttyACM). Errors are states, never exceptions.
 */
export class SerialTransport extends EventEmitter<SerialEvents> implements ByteTransport {
  readonly framing = 'stream' as const;
  readonly stats = { opens: 0, failures: 0, bytesIn: 0, bytesOut: 0 };
  private port: SerialPort | null = null;
  private isOpen = false;
  private closed = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly dataListeners: ((chunk: Buffer) => void)[] = [];

  constructor(private readonly opts: SerialOptions) {
    super();
    this.attempt();
  }

  private attempt(): void {
    // serialport (a native addon) loads only when a serial link is configured: UDP/TCP agents and
    // the single-file bundle run without it.
    import('serialport').then(({ SerialPort: Port }) => this.openWith(Port), (err: Error) => {
      this.stats.failures += 1;
      this.port = null;
      this.retry(`serialport unavailable: ${err.message}`);
    });
  }

  private openWith(Port: typeof SerialPort): void {
    if (this.closed) return;
    const port = new Port({ path: this.opts.path, baudRate: this.opts.baudRate, autoOpen: false });
    this.port = port;
    port.on('data', (chunk: Buffer) => {
      this.stats.bytesIn += chunk.length;
      for (const l of this.dataListeners) l(chunk);
    });
    port.on('error', () => undefined);
    port.on('close', () => this.down('closed'));
    port.open((err) => {
      if (err) {
        this.stats.failures += 1;
        this.down(err.message);
        return;
      }
      this.isOpen = true;
      this.stats.opens += 1;
      this.emit('open');
    });
  }

  private down(reason: string): void {
    if (this.port === null) return;
    this.port = null;
    this.isOpen = false;
    this.retry(reason);
  }

  private retry(reason: string): void {
    if (this.closed) return;
    const delay = this.opts.reopenMs ?? 1000;
    this.emit('down', reason, delay);
    this.retryTimer = setTimeout(() => this.attempt(), delay);
  }

  send(data: Buffer): boolean {
    if (!this.isOpen || !this.port) return false;
    this.stats.bytesOut += data.length;
    this.port.write(data);
    return true;
  }

  onData(listener: (chunk: Buffer) => void): void {
    this.dataListeners.push(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const port = this.port;
    this.port = null;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}
