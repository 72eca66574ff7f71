export { startTelemetry, type TelemetryApp, type TelemetryDeps } from './app.js';
export {
  defineConfig, loadConfig, CONFIG_DEFAULTS,
  type TelemetryConfig, type TelemetryConfigInput, type TelemetryFlags,
} from './config.js';
export { TelemetryError, TelemetryErrorCodes, isTelemetryError, type TelemetryErrorCode } from './errors.js';
export type { TelemetryStore, AppendResult, Logger, TrackPoint } from './ports.js';
export { openSqliteStore } from './adapters/sqlite-store.js';
export { createMemoryStore } from './adapters/memory-store.js';
export { createStderrLogger, createMemoryLogger } from './adapters/stderr-logger.js';
export { startMqttIngest, type MqttIngest, type MqttIngestOptions } from './adapters/mqtt-ingest.js';
export { buildHttpApi, problemOf, type HttpApiOptions, type Problem } from './adapters/http.js';
export {
  createIngestPipeline, classifyStatus,
  type IngestPipeline, type IngestPipelineOptions, type IngestStats, type IngestRejectCode, type Classified,
} from './domain/ingest.js';
export { resolveTrackQuery, TRACK_QUERY, type TrackQuery, type TrackQueryInput } from './domain/track-query.js';
export { parseInstant } from './domain/time.js';
