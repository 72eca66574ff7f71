/**
 * Stable error codes of the telemetry service. Callers (HTTP clients, log searches, tests) match
 * on `code`, never on message text; `status` is the HTTP status an API answer carries, and
 * `title` the RFC 9457 §3.1.3 short summary that does not change between occurrences.
 * test/errors.test.ts pins this catalogue: renaming or removing a code is a breaking change.
 */
export const TelemetryErrorCodes = {
  // HTTP query parameters
  TEL_ERR_BAD_REQUEST: { status: 400, title: 'Bad request' },
  TEL_ERR_BAD_DRONE_ID: { status: 400, title: 'Bad drone id' },
  TEL_ERR_BAD_TIME: { status: 400, title: 'Bad time parameter' },
  TEL_ERR_BAD_RANGE: { status: 400, title: 'Bad time range' },
  TEL_ERR_BAD_LIMIT: { status: 400, title: 'Bad limit' },
  TEL_ERR_NO_DATA: { status: 404, title: 'No telemetry for this drone' },
  TEL_ERR_NOT_FOUND: { status: 404, title: 'No such resource' },
  TEL_ERR_INTERNAL: { status: 500, title: 'Internal error' },
  // Ingest rejects (counted by code next to the contract's CONTRACT_ERR_* codes)
  TEL_ERR_BAD_TOPIC: { status: 400, title: 'Topic is not fleet/v1/{droneId}/status' },
  TEL_ERR_TOPIC_MISMATCH: { status: 400, title: "Topic drone id differs from the payload's droneId" },
  TEL_ERR_STORE_FAILED: { status: 500, title: 'Telemetry store write failed' },
  // Time-series writer (counted in WriterStats, logged with the line)
  TEL_ERR_WRITE_REJECTED: { status: 400, title: 'Time-series database refused the points' },
  TEL_ERR_WRITE_DROPPED: { status: 507, title: 'Writer spill full, points dropped' },
  // Write-ahead log (adapters/wal.ts)
  TEL_ERR_WAL_CORRUPT: { status: 500, title: 'Write-ahead log segment has a corrupt or truncated record' },
  TEL_ERR_WAL_WRITE: { status: 507, title: 'Write-ahead log append failed' },
  // Lifecycle
  TEL_ERR_STORE_CLOSED: { status: 503, title: 'Telemetry store is closed' },
  TEL_ERR_INGEST_CLOSED: { status: 503, title: 'Telemetry ingest is closed' },
  TEL_ERR_MQTT_REFUSED: { status: 503, title: 'MQTT broker refused the service' },
  TEL_ERR_CONFIG: { status: 500, title: 'Invalid configuration' },
} as const satisfies Record<string, { status: number; title: string }>;

export type TelemetryErrorCode = keyof typeof TelemetryErrorCodes;

export class TelemetryError extends Error {
  readonly code: TelemetryErrorCode;
  readonly status: number;

  constructor(code: TelemetryErrorCode, detail: string, options?: ErrorOptions) {
    super(detail, options);
    this.name = 'TelemetryError';
    this.code = code;
    this.status = TelemetryErrorCodes[code].status;
  }
}

export function isTelemetryError(err: unknown): err is TelemetryError {
  return err instanceof TelemetryError;
}
