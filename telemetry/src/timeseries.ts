import type { Clock } from '@aerie/contracts';
import { systemClock } from '@aerie/contracts';
import type { TelemetryConfig } from './config.js';
import { BufferedWriter } from './domain/buffered-writer.js';
import type { HistoryReader, Logger, SpillStore, TelemetryWriter } from './ports.js';
import { createInfluxV1Writer } from './adapters/influx-v1-writer.js';
import { createInfluxV2Writer } from './adapters/influx-v2-writer.js';
import { openEmbeddedWriter } from './adapters/embedded-writer.js';
import { createEmbeddedHistory } from './adapters/embedded-history.js';
import { createInfluxqlHistory } from './adapters/influxql-history.js';
import { createMemorySpill, openFileSpill } from './adapters/file-spill.js';

export interface TimeSeries {
  readonly writer: BufferedWriter;
  readonly history: HistoryReader;
  /** Readiness: null when the store answers (InfluxDB's /ping) or is open (embedded), else why not. */
  reachable(): Promise<string | null>;
  /** Writes or parks what is buffered, stops retention, closes the store. */
  close(): Promise<void>;
}

/** How long InfluxDB's /ping may take before the store counts as unreachable (ms). */
const PING_TIMEOUT_MS = 2000;

/**
 * InfluxDB's health endpoint: `GET /ping` answers 204 on 1.x (InfluxDB 1.x HTTP API reference,
 * "/ping") and on 2.x/3.x alike, without credentials.
 */
async function ping(url: string): Promise<string | null> {
  try {
    const res = await fetch(`${url.replace(/\/$/, '')}/ping`, { signal: AbortSignal.timeout(PING_TIMEOUT_MS) });
    await res.arrayBuffer();
    return res.status === 204 || res.ok ? null : `InfluxDB /ping answered ${res.status}`;
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return `InfluxDB unreachable: ${e.name === 'TimeoutError' ? `no answer within ${PING_TIMEOUT_MS} ms` : (e.cause?.code ?? e.message)}`;
  }
}

/** How often the embedded store applies its retention policy. */
const RETENTION_EVERY_MS = 10 * 60_000;

/**
 * The time-series side of the service: InfluxDB when configured (v1 or v2 write API, InfluxQL
 * history), else the embedded SQLite store beside dbPath with retention and downsampling.
 */
export function openTimeSeries(config: TelemetryConfig, logger: Logger, clock: Clock = systemClock): TimeSeries {
  const spill: SpillStore = config.spillDir === undefined ? createMemorySpill() : openFileSpill(config.spillDir);
  const i = config.influx;
  if (i !== undefined) {
    const writer: TelemetryWriter = i.api === 'v1'
      ? createInfluxV1Writer({ url: i.url, database: i.database, retentionPolicy: i.retentionPolicy, username: i.username, password: i.password })
      : createInfluxV2Writer({ url: i.url, token: i.token ?? '', org: i.org ?? '', bucket: i.bucket ?? i.database });
    const buffered = new BufferedWriter({ writer, spill, logger, clock, flushIntervalMs: config.writeFlushMs });
    const history = createInfluxqlHistory({
      url: i.url, database: i.database, retentionPolicy: i.retentionPolicy, username: i.username, password: i.password,
      token: i.api === 'v2' ? i.token : undefined,
    });
    return { writer: buffered, history, reachable: () => ping(i.url), close: () => buffered.close() };
  }
  const path = config.dbPath === ':memory:' ? ':memory:' : config.dbPath.replace(/(\.sqlite)?$/, '.points.sqlite');
  const store = openEmbeddedWriter(path);
  const buffered = new BufferedWriter({ writer: store, spill, logger, clock, batchSize: 500, flushIntervalMs: 200 });
  const timer = clock.setInterval(() => {
    try {
      const r = store.applyRetention(clock.now(), config.retention);
      if (r.deleted > 0) logger.info(`telemetry retention deleted=${r.deleted} downsampled=${r.downsampled}`);
    } catch (err) {
      logger.error(`telemetry retention failed error=${JSON.stringify(err instanceof Error ? err.message : String(err))}`);
    }
  }, RETENTION_EVERY_MS);
  let closed = false;
  return {
    writer: buffered,
    history: createEmbeddedHistory(store),
    reachable: () => Promise.resolve(closed ? 'embedded store closed' : null),
    async close() {
      closed = true;
      clock.clearInterval(timer);
      await buffered.close();
    },
  };
}
