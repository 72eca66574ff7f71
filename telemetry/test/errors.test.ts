import { describe, expect, it } from 'vitest';
import { TelemetryError, TelemetryErrorCodes } from '../src/errors.js';

describe('error catalogue', () => {
  // Codes are API: clients and dashboards match on them. Change this list only with a changelog entry.
  it('is pinned', () => {
    expect(Object.fromEntries(Object.entries(TelemetryErrorCodes).map(([code, { status }]) => [code, status]))).toEqual({
      TEL_ERR_BAD_REQUEST: 400,
      TEL_ERR_BAD_DRONE_ID: 400,
      TEL_ERR_BAD_TIME: 400,
      TEL_ERR_BAD_RANGE: 400,
      TEL_ERR_BAD_LIMIT: 400,
      TEL_ERR_NO_DATA: 404,
      TEL_ERR_NOT_FOUND: 404,
      TEL_ERR_INTERNAL: 500,
      TEL_ERR_BAD_TOPIC: 400,
      TEL_ERR_TOPIC_MISMATCH: 400,
      TEL_ERR_STORE_FAILED: 500,
      TEL_ERR_WRITE_REJECTED: 400,
      TEL_ERR_WRITE_DROPPED: 507,
      TEL_ERR_WAL_CORRUPT: 500,
      TEL_ERR_WAL_WRITE: 507,
      TEL_ERR_STORE_CLOSED: 503,
      TEL_ERR_INGEST_CLOSED: 503,
      TEL_ERR_MQTT_REFUSED: 503,
      TEL_ERR_CONFIG: 500,
    });
  });

  it('gives every code a title and the TEL_ERR_ prefix', () => {
    for (const [code, { title }] of Object.entries(TelemetryErrorCodes)) {
      expect(code).toMatch(/^TEL_ERR_[A-Z_]+$/);
      expect(title.length).toBeGreaterThan(0);
    }
  });

  it('carries code and status on the error', () => {
    const err = new TelemetryError('TEL_ERR_BAD_RANGE', 'from is after to');
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ code: 'TEL_ERR_BAD_RANGE', status: 400, message: 'from is after to', name: 'TelemetryError' });
  });
});
