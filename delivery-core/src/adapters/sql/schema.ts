import type { DeliveryStage } from '@aerie/contracts';
import type { Generated } from 'kysely';

/**
 * The tables as the typed query layer sees them; one interface per table, columns in
 * snake_case as stored. Epoch milliseconds are BIGINT on PostgreSQL (parsed back to number:
 * they stay below 2^53) and INTEGER on SQLite.
 */
export interface DeliveriesTable {
  id: string;
  owner: string | null;
  pickup_lat: number;
  pickup_lon: number;
  dropoff_lat: number;
  dropoff_lon: number;
  stage: DeliveryStage;
  drone_id: string | null;
  eta: number | null;
  /** JSON {lat, lon, altRel}. */
  last_position: string | null;
  correlation_id: string;
  created_at: number;
  updated_at: number;
  failure_reason: string | null;
  eta_dispatch: number | null;
  eta_halfway: number | null;
  /** The customer's window (epoch ms; null: no bound), migration 0003. */
  pickup_from: number | null;
  pickup_by: number | null;
  deadline: number | null;
  /** JSON StoredRoute: the dispatched assignment's legs round no-fly zones. */
  route: string | null;
  /** The drone whose mission for this delivery a reschedule aborted: not given it again. */
  aborted_drone_id: string | null;
}

export interface StageHistoryTable {
  /** Insertion order, the tie-break between changes of the same millisecond. */
  seq: Generated<number>;
  delivery_id: string;
  stage: DeliveryStage;
  at: number;
  event_id: string;
}

/** How far each ingestion queue has been drained into `deliveries` (written in the drain's transaction). */
export interface IngestCursorTable {
  queue: string;
  position: number;
}

/** Every table of delivery-core's store; a migration that adds a table adds it here. */
export interface CoreDatabase {
  deliveries: DeliveriesTable;
  stage_history: StageHistoryTable;
  ingest_cursor: IngestCursorTable;
}

export type SqlDialectName = 'sqlite' | 'postgres';
