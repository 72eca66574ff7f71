import type { AddressInfo } from 'node:net';
import { systemClock } from '@aerie/contracts';
import type { Clock } from '@aerie/contracts';
import type { TelemetryConfig } from './config.js';
import type { HistoryReader, Logger, TelemetryStore } from './ports.js';
import { openSqliteStore } from './adapters/sqlite-store.js';
import { startMqttIngest } from './adapters/mqtt-ingest.js';
import type { MqttIngest } from './adapters/mqtt-ingest.js';
import { buildHttpApi } from './adapters/http.js';
import { createStderrLogger } from './adapters/stderr-logger.js';
import { registerHistoryRoutes } from './adapters/http-history.js';
import { statusPoint } from './domain/measurements.js';
import type { BufferedWriter } from './domain/buffered-writer.js';
import { openTimeSeries } from './timeseries.js';
import { openWal } from './adapters/wal.js';

export interface TelemetryDeps {
  logger?: Logger;
  clock?: Clock;
}

export interface TelemetryApp {
  /** the HTTP port actually bound (differs from config.httpPort when that is 0) */
  readonly port: number;
  readonly store: TelemetryStore;
  readonly ingest: MqttIngest;
  /** every status as a drone_status point, into InfluxDB or the embedded store */
  readonly writer: BufferedWriter;
  readonly history: HistoryReader;
  /**
   * The graceful stop (SIGTERM, issue 8): /readyz answers 503 at once; the MQTT session is left
   * (DISCONNECT, not unsubscribed: the broker keeps the persistent session and queues what comes
   * meanwhile, and what it sent and was not yet acknowledged it sends again); what was taken is
   * written to the time-series store or parked in the file spill; then HTTP closes. Idempotent.
   */
  close(): Promise<void>;
}

/** Opens the store, starts consuming and listens for HTTP; resolves without waiting for the broker. */
export async function startTelemetry(config: TelemetryConfig, deps: TelemetryDeps = {}): Promise<TelemetryApp> {
  const logger = deps.logger ?? createStderrLogger();
  const store = openSqliteStore(config.dbPath);
  const series = openTimeSeries(config, logger, deps.clock);
  const wal = config.walDir === undefined ? undefined : openWal({
    dir: config.walDir, logger, clock: deps.clock, fsyncMs: config.walFsyncMs,
    handed: () => series.writer.stats().accepted,
    settled: () => series.writer.durableUpTo(),
  });

  const ingest = startMqttIngest({
    url: config.mqttUrl,
    username: config.mqttUsername,
    password: config.mqttPassword,
    clientId: config.clientId,
    store,
    logger,
    clock: deps.clock,
    onStatus: (s) => series.writer.write([statusPoint(s, config.fleet)]),
    onEventPoint: { fleet: config.fleet, write: (p) => series.writer.write([p]) },
    wal,
  });
  let closing: Promise<void> | undefined;
  const http = buildHttpApi({
    store, logger, clock: deps.clock, trustedProxies: config.trustedProxies,
    health: () => ({ ingest: ingest.stats(), timeseries: { store: series.history.kind, ...series.writer.stats() } }),
    readiness: async () => ({
      mqtt: ingest.consuming() ? 'ok' : 'not subscribed (broker unreachable, or the subscription not granted yet)',
      timeseries: (await series.reachable()) ?? 'ok',
      ...(closing ? { shutdown: 'in progress' } : {}),
    }),
  });
  registerHistoryRoutes(http, series.history, deps.clock ?? systemClock);
  try {
    await http.listen({ host: config.httpHost, port: config.httpPort });
  } catch (err) {
    // Whatever ingest already took from a persistent session is flushed, not dropped.
    await ingest.close();
    await series.close();
    wal?.close();
    store.close();
    throw err;
  }

  return {
    port: (http.server.address() as AddressInfo).port,
    store,
    ingest,
    writer: series.writer,
    history: series.history,
    close() {
      closing ??= (async () => {
        try {
          // Stop consuming, then flush what was taken; HTTP (answering /readyz 503) closes last.
          await ingest.close();
          await series.close();
          // Last: a segment goes only once what it holds is written or parked in the file spill.
          wal?.close();
          await http.close();
        } finally {
          store.close();
        }
      })();
      return closing;
    },
  };
}
