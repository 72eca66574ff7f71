import { HttpError, InfluxDB, setLogger } from '@influxdata/influxdb-client';
import type { WriteApi } from '@influxdata/influxdb-client';
import { toLine } from '../domain/point.js';
import type { Point } from '../domain/point.js';
import type { TelemetryWriter, WriteOutcome } from '../ports.js';
import { outcomeOf, unreachable } from './http-outcome.js';

export interface InfluxV2WriterOptions {
  /** e.g. http://127.0.0.1:8086, https://eu-central-1-1.aws.cloud2.influxdata.com */
  url: string;
  /** API token; InfluxDB 1.8+ takes `user:password` here */
  token: string;
  /** ignored by 1.8+ and 3.x, required by 2.x and Cloud */
  org: string;
  /** 1.8+: `database/retention-policy` */
  bucket: string;
  /** bodies at least this large are gzip-compressed (default 1000 bytes) */
  gzipThresholdBytes?: number;
  timeoutMs?: number;
}

// The client logs every failed write to the console itself; outcomes are ours to count and log once.
setLogger({ error: () => undefined, warn: () => undefined });

/**
 * The v2 write API (`POST /api/v2/write`) through @influxdata/influxdb-client. The client's own
 * retry buffer is switched off (maxRetries 0): retrying and spilling live in buffered-writer.ts so
 * every adapter behaves alike, and the client's buffer would otherwise drop lines when full.
 */
export function createInfluxV2Writer(o: InfluxV2WriterOptions): TelemetryWriter {
  const influx = new InfluxDB({ url: o.url, token: o.token, timeout: o.timeoutMs ?? 10_000 });
  const open = new Set<WriteApi>();
  return {
    kind: 'influx-v2',
    async write(points: readonly Point[]): Promise<WriteOutcome> {
      if (points.length === 0) return { ok: true };
      const api = influx.getWriteApi(o.org, o.bucket, 'ms', {
        batchSize: points.length + 1,
        flushInterval: 0,
        maxRetries: 0,
        maxBufferLines: points.length + 1,
        gzipThreshold: o.gzipThresholdBytes ?? 1000,
        // Returning nothing lets flush() reject with the error instead of the client swallowing it.
        writeFailed: () => undefined,
      });
      open.add(api);
      try {
        api.writeRecords(points.map(toLine));
        await api.close();
        return { ok: true };
      } catch (err) {
        if (err instanceof HttpError) {
          const ra = err.headers?.['retry-after'];
          return outcomeOf(err.statusCode, err.body ?? err.message, Array.isArray(ra) ? (ra[0] ?? null) : (ra ?? null));
        }
        return unreachable(err);
      } finally {
        open.delete(api);
      }
    },
    close() {
      for (const a of open) a.dispose();
      return Promise.resolve();
    },
  };
}
