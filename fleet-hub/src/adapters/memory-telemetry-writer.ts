import type { DroneStatus } from '@aerie/contracts';
import type { TelemetryWriter } from '../ports.js';

/** In-memory twin of the telemetry writer: counts, keeps the newest per drone, and hands each batch to an optional observer. */
export class MemoryTelemetryWriter implements TelemetryWriter {
  written = 0;
  readonly latest = new Map<string, DroneStatus>();

  constructor(private readonly observe?: (batch: readonly DroneStatus[]) => void) {}

  write(batch: readonly DroneStatus[]): void {
    this.written += batch.length;
    for (const s of batch) this.latest.set(s.droneId, s);
    this.observe?.(batch);
  }
}
