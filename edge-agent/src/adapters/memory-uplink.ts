import type { CommandResult, DroneEvent, DroneStatus } from '@aerie/contracts';
import type { Uplink } from '../ports.js';

/** In-memory uplink: records what the agent publishes and lets a test send it commands. */
export class MemoryUplink implements Uplink {
  readonly statuses: DroneStatus[] = [];
  readonly events: DroneEvent[] = [];
  readonly results: CommandResult[] = [];
  connected = true;
  private readonly commandListeners: ((payload: Buffer) => void)[] = [];

  publishStatus(status: DroneStatus): void {
    this.statuses.push(status);
  }
  publishEvent(event: DroneEvent): void {
    this.events.push(event);
  }
  publishResult(result: CommandResult): void {
    this.results.push(result);
  }
  onCommand(listener: (payload: Buffer) => void): void {
    this.commandListeners.push(listener);
  }
  /** Delivers a command payload as the broker would. */
  deliver(payload: Buffer | string): void {
    for (const l of this.commandListeners) l(Buffer.from(payload));
  }
  close(): Promise<void> {
    this.connected = false;
    return Promise.resolve();
  }
}
