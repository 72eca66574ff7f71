import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { toLine } from '../domain/point.js';
import type { Point } from '../domain/point.js';
import type { TelemetryWriter } from '../ports.js';
import { outcomeOf, unreachable } from './http-outcome.js';

const gzip = promisify(gzipCb);

export interface InfluxV1WriterOptions {
  /** e.g. http://127.0.0.1:8086 */
  url: string;
  database: string;
  /** empty for the database's default retention policy */
  retentionPolicy?: string | undefined;
  username?: string | undefined;
  password?: string | undefined;
  /** bodies at least this large are sent gzip-compressed (default 1000 bytes; 0 always, Infinity never) */
  gzipThresholdBytes?: number;
  /** per request (default 10 000 ms) */
  timeoutMs?: number;
}

/**
 * InfluxDB 1.x `POST /write` (InfluxDB 1.x HTTP API reference, "/write"): line protocol with
 * precision=ms, credentials as HTTP Basic (the reference prefers it to u=/p= query parameters,
 * which end up in access logs), Content-Encoding: gzip accepted since 1.x.
 */
export function createInfluxV1Writer(o: InfluxV1WriterOptions): TelemetryWriter {
  const q = new URLSearchParams({ db: o.database, precision: 'ms' });
  if (o.retentionPolicy) q.set('rp', o.retentionPolicy);
  const endpoint = `${o.url.replace(/\/$/, '')}/write?${q.toString()}`;
  const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
  if (o.username !== undefined) {
    headers.authorization = `Basic ${Buffer.from(`${o.username}:${o.password ?? ''}`).toString('base64')}`;
  }
  const threshold = o.gzipThresholdBytes ?? 1000;
  const timeoutMs = o.timeoutMs ?? 10_000;
  return {
    kind: 'influx-v1',
    async write(points: readonly Point[]) {
      if (points.length === 0) return { ok: true };
      const text = points.map(toLine).join('\n');
      const raw = Buffer.from(text);
      const zipped = raw.length >= threshold;
      const body = zipped ? await gzip(raw) : raw;
      try {
        const res = await fetch(endpoint, {
          method: 'POST',
          headers: zipped ? { ...headers, 'content-encoding': 'gzip' } : headers,
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        return outcomeOf(res.status, await res.text(), res.headers.get('retry-after'));
      } catch (err) {
        return unreachable(err);
      }
    },
    async close() {},
  };
}
