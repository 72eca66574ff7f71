import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json: () => Record<string, unknown>;
}

/** One HTTPS request to the gateway, verifying its certificate against the test CA (no keep-alive). */
export function call(base: string, ca: string, method: string, path: string, opts: { headers?: Record<string, string>; body?: string | object; localAddress?: string } = {}): Promise<Answer> {
  const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  const headers: Record<string, string> = {
    ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}),
    ...opts.headers,
  };
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method, ca, headers, agent: false, timeout: 10_000, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve({
        status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) as Record<string, unknown>,
      }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within 10 s`)));
    req.once('error', reject);
    req.end(body);
  });
}

/** Opens an event stream through the gateway and resolves with what arrived before `until` matched. */
export function firstFrames(base: string, ca: string, path: string, until: RegExp): Promise<{ status: number; contentType: string; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { ca, agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => {
        text += d;
        if (until.test(text)) {
          resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), text });
          req.destroy();
        }
      }).on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), text }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`${path}: no frame matching ${until} within 10 s`)));
    req.once('error', reject);
    req.end();
  });
}

export interface AccessLine {
  time: string; client: string; method: string; uri: string; status: number; bytes: number; request_time: number;
  upstream_addr: string; upstream_status: string; upstream_response_time: string; correlation_id: string;
}

/** Every line of the gateway's access log, each parsed as JSON (a line that does not parse throws). */
export function accessLines(file: string): AccessLine[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as AccessLine);
}
