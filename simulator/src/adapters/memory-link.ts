import type { LinkImpairment, TelemetryStream, VehicleLink, VehicleLinkStats } from '../ports.js';
import type { VehicleInput, VehicleOutput, VehicleSnapshot } from '../domain/types.js';

/** A link that keeps what the vehicle sends and lets a test inject what it receives. */
export class MemoryVehicleLink implements VehicleLink {
  readonly port = 0;
  readonly events: VehicleOutput[] = [];
  readonly telemetry: { stream: TelemetryStream; snapshot: VehicleSnapshot }[] = [];
  closed = false;
  private readonly listeners: ((input: VehicleInput) => void)[] = [];
  private received = 0;
  private impairment: LinkImpairment | null = null;

  /** A dropped link passes nothing either way; corruption has no meaning without bytes. */
  impair(impairment: LinkImpairment): void {
    this.impairment = impairment;
  }

  onInput(listener: (input: VehicleInput) => void): void {
    this.listeners.push(listener);
  }

  /** Delivers `input` as if it had arrived from the ground station. */
  inject(input: VehicleInput): void {
    if (this.closed || this.impairment?.down) return;
    this.received += 1;
    for (const l of this.listeners) l(input);
  }

  sendEvent(out: VehicleOutput): void {
    if (!this.closed && !this.impairment?.down) this.events.push(out);
  }

  sendTelemetry(stream: TelemetryStream, snapshot: VehicleSnapshot): void {
    if (!this.closed && !this.impairment?.down) this.telemetry.push({ stream, snapshot });
  }

  stats(): VehicleLinkStats {
    return { received: this.received, sent: this.events.length + this.telemetry.length, sendDropped: 0, badFrames: 0, socketErrors: 0 };
  }

  close(): Promise<void> {
    this.closed = true;
    this.listeners.length = 0;
    return Promise.resolve();
  }
}
