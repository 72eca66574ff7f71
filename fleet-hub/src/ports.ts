import type { DroneStatus } from '@aerie/contracts';

/**
 * Where accepted statuses go after the fleet state and the tracker: the telemetry store.
 * Batches arrive once per drain tick, so an adapter writes many points per round trip.
 * An adapter that falls behind must shed or batch inside itself; `write` must not throw.
 */
export interface TelemetryWriter {
  write(batch: readonly DroneStatus[]): void;
}
