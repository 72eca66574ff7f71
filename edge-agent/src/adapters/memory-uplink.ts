import type { CommandResult, DroneEvent, DroneStatus } from '@aerie/contracts';
import type { Uplink, UplinkKind } from '../ports.js';

/** In-memory uplink: records what the agent publishes and lets a test send it commands. */
export class MemoryUplink implements Uplink {
  readonly statuses: DroneStatus[] = [];
  readonly events: DroneEvent[] = [];
  readonly results: CommandResult[] = [];
  /** Every message in the order the "broker" received it, live or drained. */
  readonly delivered: { kind: UplinkKind; message: DroneStatus | DroneEvent | CommandResult }[] = [];
  private up = true;
  private readonly commandListeners: ((payload: Buffer) => void)[] = [];
  private readonly connectionListeners: ((up: boolean) => void)[] = [];

  get connected(): boolean {
    return this.up;
  }

  /** Simulates the broker going away and coming back. */
  setConnected(up: boolean): void {
    this.up = up;
    for (const l of this.connectionListeners) l(up);
  }

  onConnectionChange(listener: (up: boolean) => void): void {
    this.connectionListeners.push(listener);
  }

  publishConfirmed(kind: UplinkKind, body: Buffer): Promise<boolean> {
    if (!this.up) return Promise.resolve(false);
    const message = JSON.parse(body.toString('utf8')) as DroneStatus | DroneEvent | CommandResult;
    if (kind === 'status') this.statuses.push(message as DroneStatus);
    else if (kind === 'event') this.events.push(message as DroneEvent);
    else this.results.push(message as CommandResult);
    this.delivered.push({ kind, message });
    return Promise.resolve(true);
  }

  publishStatus(status: DroneStatus): void {
    this.statuses.push(status);
    this.delivered.push({ kind: 'status', message: status });
  }
  publishEvent(event: DroneEvent): void {
    this.events.push(event);
    this.delivered.push({ kind: 'event', message: event });
  }
  publishResult(result: CommandResult): void {
    this.results.push(result);
    this.delivered.push({ kind: 'result', message: result });
  }
  onCommand(listener: (payload: Buffer) => void): void {
    this.commandListeners.push(listener);
  }
  /** Delivers a command payload as the broker would. */
  deliver(payload: Buffer | string): void {
    for (const l of this.commandListeners) l(Buffer.from(payload));
  }
  close(): Promise<void> {
    this.up = false;
    return Promise.resolve();
  }
}
