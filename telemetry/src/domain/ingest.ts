import { decodeMessage, parseFleetTopic, systemClock } from '@aerie/contracts';
import type { Clock, ContractErrorCode, DroneStatus } from '@aerie/contracts';
import type { TelemetryErrorCode } from '../errors.js';
import type { Logger, TelemetryStore } from '../ports.js';
import { Batcher } from './batcher.js';

export type IngestRejectCode =
  | ContractErrorCode
  | Extract<TelemetryErrorCode, 'TEL_ERR_BAD_TOPIC' | 'TEL_ERR_TOPIC_MISMATCH' | 'TEL_ERR_STORE_FAILED'>;

export interface IngestStats {
  /** messages handed to the pipeline */
  received: number;
  /** statuses newly written to the store */
  stored: number;
  /** statuses the store already held (QoS 1 redelivery, agent replaying its offline buffer) */
  duplicates: number;
  /** messages (or, for TEL_ERR_STORE_FAILED, statuses) dropped, by code */
  rejected: Partial<Record<IngestRejectCode, number>>;
}

export type Classified =
  | { ok: true; status: DroneStatus }
  | { ok: false; code: IngestRejectCode; droneId: string | null; detail: string };

/** Decides whether one wire message on a status topic is a status we may store; never throws. */
export function classifyStatus(topic: string, payload: Buffer | string): Classified {
  const parsed = parseFleetTopic(topic);
  if (parsed?.channel !== 'status') {
    return { ok: false, code: 'TEL_ERR_BAD_TOPIC', droneId: null, detail: `topic ${JSON.stringify(topic)} is not fleet/v1/{droneId}/status` };
  }
  const decoded = decodeMessage('DroneStatus', payload);
  if (!decoded.ok) return { ok: false, code: decoded.code, droneId: parsed.droneId, detail: decoded.message };
  // The broker's ACL pins a drone to its own topic subtree, not its payload; a status naming
  // another drone would write into that drone's history.
  if (decoded.value.droneId !== parsed.droneId) {
    return {
      ok: false,
      code: 'TEL_ERR_TOPIC_MISMATCH',
      droneId: parsed.droneId,
      detail: `payload droneId ${JSON.stringify(decoded.value.droneId)} differs from the topic's`,
    };
  }
  return { ok: true, status: decoded.value };
}

export interface IngestPipelineOptions {
  store: TelemetryStore;
  logger: Logger;
  clock?: Clock;
  /** default 500 statuses */
  maxBatchPoints?: number;
  /** default 200 ms */
  flushIntervalMs?: number;
  /** also handed every accepted status, e.g. the time-series writer (which never throws) */
  onStatus?: (status: DroneStatus) => void;
}

export interface IngestPipeline {
  /** Takes one wire message; never throws (garbage is counted and logged). */
  accept(topic: string, payload: Buffer | string): void;
  /** Writes what is buffered now. */
  flush(): void;
  /** statuses accepted but not yet written */
  pending(): number;
  stats(): IngestStats;
}

/** Transport-free ingest: classify, count, batch, store. The MQTT adapter only feeds it. */
export function createIngestPipeline(opts: IngestPipelineOptions): IngestPipeline {
  const { store, logger } = opts;
  const stats: IngestStats = { received: 0, stored: 0, duplicates: 0, rejected: {} };
  const reject = (code: IngestRejectCode, count: number): void => {
    stats.rejected[code] = (stats.rejected[code] ?? 0) + count;
  };

  const batcher = new Batcher<DroneStatus>({
    maxItems: opts.maxBatchPoints ?? 500,
    maxDelayMs: opts.flushIntervalMs ?? 200,
    clock: opts.clock ?? systemClock,
    write(points) {
      try {
        const r = store.append(points);
        stats.stored += r.inserted;
        stats.duplicates += r.duplicates;
      } catch (err) {
        // The messages were already acknowledged to the broker, so these points are lost;
        // counting them keeps received = stored + duplicates + rejected + pending.
        reject('TEL_ERR_STORE_FAILED', points.length);
        logger.error(`telemetry store write failed code=TEL_ERR_STORE_FAILED points=${points.length} error=${oneLine(err)}`);
      }
    },
  });

  return {
    accept(topic, payload) {
      stats.received += 1;
      const c = classifyStatus(topic, payload);
      if (c.ok) {
        batcher.push(c.status);
        opts.onStatus?.(c.status);
        return;
      }
      reject(c.code, 1);
      logger.warn(`telemetry rejected status drone=${c.droneId ?? '-'} code=${c.code} detail=${JSON.stringify(c.detail)}`);
    },
    flush: () => batcher.flush(),
    pending: () => batcher.pending,
    stats: () => ({ ...stats, rejected: { ...stats.rejected } }),
  };
}

function oneLine(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return JSON.stringify(text);
}
