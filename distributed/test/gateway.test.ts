import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Authenticator, DeliveryService, MemoryDeliveryRepository, MemoryFleetLink, buildHttp, coreConfig } from '@aerie/delivery-core';
import { buildHttpApi, createMemoryLogger, createMemoryStore } from '@aerie/telemetry';
import { systemClock } from '@aerie/contracts';
import { makeTestPki, type TestPki } from '../../test-support/certs.js';
import { connect } from 'node:net';
import { connect as tlsConnect, type SecureVersion } from 'node:tls';
import { freePort } from '../../test-support/servers.js';
import { until } from '../../test-support/until.js';
import { droneStatus } from '../../test-support/fixtures.js';
import { GatewayError, nginxGroupMembers, renderGatewayConfig, startGateway, type RunningGateway } from '../src/gateway.js';
import { accessLines, call, firstFrames, type AccessLine } from './gateway-helpers.js';

// Issue 8: Debian's nginx (deploy/nginx/aerie.conf.template) in front of two real delivery-core
// HTTP instances and a real telemetry API, over TLS signed by a throw-away CA.
const body = { pickup: { lat: 47.399, lon: 8.547 }, dropoff: { lat: 47.401, lon: 8.55 } };
const HEX32 = /^[0-9a-f]{32}$/;

let pki: TestPki;
let ca: string;
let dir: string;
let gw: RunningGateway;
const cores: { app: FastifyInstance; addr: string }[] = [];
let telemetry: FastifyInstance;
let telemetryAddr: string;

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const a = app.server.address();
  return `127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
}

const get = (path: string, headers: Record<string, string> = {}) => call(gw.url, ca, 'GET', path, { headers });
/**
 * The access log line of the request answered with this correlation id. nginx writes it once the
 * request is finalised, which may be just after the client has read the answer: waited for.
 */
async function lineOf(correlationId: string): Promise<AccessLine> {
  const found = await until(() => {
    const l = accessLines(gw.accessLog).filter((x) => x.correlation_id === correlationId);
    return l.length > 0 && l;
  }, `the access log line of ${correlationId}`, 5000);
  expect(found, `one access log line for ${correlationId}`).toHaveLength(1);
  return found[0]!;
}

beforeAll(async () => {
  pki = makeTestPki();
  ca = readFileSync(pki.caFile, 'utf8');
  dir = mkdtempSync(join(tmpdir(), 'aerie-gateway-'));
  for (let i = 0; i < 2; i++) {
    const config = coreConfig({ dbPath: ':memory:', trustedProxies: ['127.0.0.1'] });
    const service = new DeliveryService(new MemoryDeliveryRepository(), new MemoryFleetLink(), config, systemClock);
    const app = buildHttp(service, Authenticator.open(systemClock));
    cores.push({ app, addr: await listen(app) });
  }
  const store = createMemoryStore();
  store.append([droneStatus({ droneId: 'drone-007', ts: Date.now() - 1000 })]);
  telemetry = buildHttpApi({ store, logger: createMemoryLogger(), trustedProxies: ['127.0.0.1'] });
  telemetryAddr = await listen(telemetry);
  gw = await startGateway({
    dir, port: 0, tlsCert: pki.serverCertFile, tlsKey: pki.serverKeyFile,
    core: cores.map((c) => c.addr), telemetry: [telemetryAddr],
  });
});

afterAll(async () => {
  await gw?.stop();
  for (const c of cores) await c.app.close();
  await telemetry?.close();
  pki?.remove();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the nginx gateway', () => {
  it('routes the delivery API to delivery-core and a drone track to telemetry, over TLS', async () => {
    const put = await call(gw.url, ca, 'PUT', '/api/v1/deliveries/route-1', { body });
    expect(put.status).toBe(202);
    expect(put.json()).toMatchObject({ id: 'route-1', stage: 'Requested' });
    const track = await get('/api/v1/drones/drone-007/track');
    expect(track.status).toBe(200);
    expect(track.json()).toMatchObject({ droneId: 'drone-007' });
    expect((track.json().points as unknown[]).length).toBe(1);
    expect((await lineOf(String(track.headers['x-correlation-id']))).upstream_addr).toBe(telemetryAddr);
    // The rest of the core's public API: the registry, accounts, the OpenAPI document.
    expect((await get('/api/v1/drones')).json()).toHaveProperty('items');
    expect((await get('/api/v1/accounts')).status).toBe(200);
    expect((await get('/api/docs')).json()).toMatchObject({ openapi: expect.stringMatching(/^3\.1/) as unknown });
    // The core's own errors pass through with its codes.
    const unknown = await get('/api/v1/deliveries/nobody-here');
    expect(unknown.status).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 'DLV_ERR_NOT_FOUND' });
  });

  it('terminates TLS 1.2 and 1.3 with the certificate the CA signed', async () => {
    const negotiate = (v: SecureVersion) => new Promise<string>((resolve, reject) => {
      const sock = tlsConnect({ host: '127.0.0.1', port: gw.port, ca, minVersion: v, maxVersion: v }, () => {
        resolve(sock.getProtocol() ?? '');
        sock.end();
      });
      sock.once('error', reject);
    });
    expect(await negotiate('TLSv1.2')).toBe('TLSv1.2');
    expect(await negotiate('TLSv1.3')).toBe('TLSv1.3');
  });

  it('answers unknown and internal paths itself: 404 GW_ERR_NOT_FOUND, problem+json', async () => {
    for (const path of ['/nope', '/healthz', '/api/v2/deliveries', '/api/v1/deliveriesX']) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ status: 404, code: 'GW_ERR_NOT_FOUND', correlationId: res.headers['x-correlation-id'] });
      expect((await lineOf(String(res.headers['x-correlation-id']))).upstream_addr).toBe('');
    }
  });

  it('refuses a body over the limit with 413 GW_ERR_BODY_TOO_LARGE before any service sees it', async () => {
    const big = { ...body, owner: 'x'.repeat(20_000) };
    const res = await call(gw.url, ca, 'PUT', '/api/v1/deliveries/too-big', { body: big });
    expect(res.status).toBe(413);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 413, code: 'GW_ERR_BODY_TOO_LARGE' });
    const line = await lineOf(String(res.headers['x-correlation-id']));
    expect(line).toMatchObject({ status: 413, upstream_addr: '', method: 'PUT', uri: '/api/v1/deliveries/too-big' });
  });

  it('generates a correlation id when absent, passes a well-formed one on, and logs it', async () => {
    const made = await call(gw.url, ca, 'PUT', '/api/v1/deliveries/corr-1', { body });
    const id = String(made.headers['x-correlation-id']);
    expect(id).toMatch(HEX32);
    // The core received it: the delivery carries the gateway's id.
    expect(made.json()).toMatchObject({ correlationId: id });
    expect(made.headers['x-correlation-id']).not.toContain(','); // one header, not the upstream's and the gateway's
    const line = await lineOf(id);
    expect(cores.map((c) => c.addr)).toContain(line.upstream_addr);
    expect(line).toMatchObject({ method: 'PUT', uri: '/api/v1/deliveries/corr-1', status: 202, client: '127.0.0.1', upstream_status: '202' });

    const given = await call(gw.url, ca, 'PUT', '/api/v1/deliveries/corr-2', { body, headers: { 'x-correlation-id': 'order-77.retry_1' } });
    expect(given.headers['x-correlation-id']).toBe('order-77.retry_1');
    expect(given.json()).toMatchObject({ correlationId: 'order-77.retry_1' });
    expect((await lineOf('order-77.retry_1')).status).toBe(202);
    // A malformed one is replaced, never forwarded.
    const bad = await get('/api/v1/deliveries/corr-1', { 'x-correlation-id': 'no spaces"allowed' });
    expect(bad.headers['x-correlation-id']).toMatch(HEX32);
    // Telemetry gets it too (it does not echo one, the gateway does).
    const t = await get('/api/v1/drones/drone-007/latest', { 'x-correlation-id': 'tel-corr-1' });
    expect(t.status).toBe(200);
    expect(t.headers['x-correlation-id']).toBe('tel-corr-1');
  });

  it('writes the access log as JSON lines with the fields operators query', async () => {
    await get('/api/v1/deliveries?limit=5');
    const lines = accessLines(gw.accessLog);
    expect(lines.length).toBeGreaterThan(5);
    for (const l of lines) {
      expect(Object.keys(l).sort()).toEqual(['bytes', 'client', 'correlation_id', 'method', 'request_time', 'status', 'time', 'upstream_addr', 'upstream_response_time', 'upstream_status', 'uri'].sort());
      expect(Number.isNaN(Date.parse(l.time))).toBe(false);
      expect(typeof l.status).toBe('number');
      expect(typeof l.request_time).toBe('number');
    }
    // The query (a tracking link's token lives there) is not logged.
    expect(lines.some((l) => l.uri.includes('?'))).toBe(false);
  });

  it('keeps every request for one delivery on one core instance (hash by id), and spreads the ids', async () => {
    const byId = new Map<string, string>();
    for (let i = 0; i < 16; i++) {
      const id = `hash-${i}`;
      const put = await call(gw.url, ca, 'PUT', `/api/v1/deliveries/${id}`, { body });
      expect(put.status).toBe(202);
      const upstream = (await lineOf(String(put.headers['x-correlation-id']))).upstream_addr;
      byId.set(id, upstream);
      // Each core has its own memory store: a GET that landed elsewhere would be a 404.
      for (let k = 0; k < 2; k++) {
        const again = await get(`/api/v1/deliveries/${id}`);
        expect(again.status).toBe(200);
        expect((await lineOf(String(again.headers['x-correlation-id']))).upstream_addr).toBe(upstream);
      }
    }
    expect(new Set(byId.values()).size).toBe(2);
  });

  it('routes a POST create by its Idempotency-Key: the retry reaches the instance that holds the first', async () => {
    const ids = new Set<string>();
    const upstreams = new Set<string>();
    // Eight tries: were they spread at random, all on one instance would be a 1 in 128 chance.
    for (let k = 0; k < 8; k++) {
      const res = await call(gw.url, ca, 'POST', '/api/v1/deliveries', { body, headers: { 'idempotency-key': 'order-4711' } });
      expect(res.status).toBe(202);
      ids.add(String(res.json().id));
      upstreams.add((await lineOf(String(res.headers['x-correlation-id']))).upstream_addr);
    }
    expect(ids.size).toBe(1);
    expect(upstreams.size).toBe(1);
  });

  it('streams server-sent events through unbuffered', async () => {
    await call(gw.url, ca, 'PUT', '/api/v1/deliveries/sse-1', { body });
    const res = await firstFrames(gw.url, ca, '/api/v1/deliveries/sse-1/events', /event: snapshot[\s\S]*\n\n/);
    expect(res.status).toBe(200);
    expect(res.contentType).toMatch(/^text\/event-stream/);
    expect(res.text).toMatch(/"id":"sse-1"/);
  });

  it('overwrites a client X-Forwarded-For: the services see the real peer', async () => {
    // The core would believe the header from the gateway (127.0.0.1 is trusted); the gateway sets
    // it from the TCP peer, so a spoofed one never arrives. Visible in the rate-limit bucket key:
    // tested with a tight limit in gateway-trust.test.ts; here, the header the upstream got.
    const res = await get('/api/v1/drones/drone-007/track', { 'x-forwarded-for': '203.0.113.9' });
    expect(res.status).toBe(200);
    expect((await lineOf(String(res.headers['x-correlation-id']))).client).toBe('127.0.0.1');
  });
});

describe('the gateway when things are wrong', () => {
  it('answers 502 GW_ERR_UPSTREAM_UNAVAILABLE when no instance listens, and 429 GW_ERR_RATE_LIMITED over the rate', async () => {
    const d = mkdtempSync(join(tmpdir(), 'aerie-gateway-down-'));
    const dead = `127.0.0.1:${await freePort()}`;
    const down = await startGateway({
      dir: d, port: 0, tlsCert: pki.serverCertFile, tlsKey: pki.serverKeyFile, core: [dead], telemetry: [dead], rateLimit: { perSec: 1, burst: 2 },
    });
    try {
      const res = await call(down.url, ca, 'GET', '/api/v1/drones/drone-007/track');
      expect(res.status).toBe(502);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ status: 502, code: 'GW_ERR_UPSTREAM_UNAVAILABLE' });
      const statuses: number[] = [];
      let limited: Record<string, unknown> | null = null;
      for (let i = 0; i < 8; i++) {
        const r = await call(down.url, ca, 'GET', '/api/v1/deliveries/x');
        statuses.push(r.status);
        if (r.status === 429) {
          limited = r.json();
          expect(r.headers['retry-after']).toBe('1');
          expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
        }
      }
      // 1 request/s with a burst of 2: of 9 requests in a burst, at most 3 (+1 per second elapsed) pass.
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
      expect(limited).toMatchObject({ status: 429, code: 'GW_ERR_RATE_LIMITED' });
    } finally {
      await down.stop();
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('survives kill -9 of its master: the orphaned workers are reaped at the next start in the same dir; stop() leaves nothing', async () => {
    const d = mkdtempSync(join(tmpdir(), 'aerie-gateway-kill-'));
    const accepts = (port: number) => new Promise<boolean>((r) => {
      const s = connect(port, '127.0.0.1').once('connect', () => r(true)).once('error', () => r(false));
      s.once('connect', () => s.destroy());
    });
    try {
      const opts = { dir: d, port: 0, tlsCert: pki.serverCertFile, tlsKey: pki.serverKeyFile, core: [cores[0]!.addr], telemetry: [telemetryAddr] };
      const first = await startGateway(opts);
      process.kill(first.pid, 'SIGKILL');
      await first.exited;
      // nginx's workers outlive their master and keep the listening socket.
      const orphans = nginxGroupMembers(first.pid);
      expect(orphans.length).toBeGreaterThan(0);
      expect(await accepts(first.port)).toBe(true);
      const second = await startGateway({ ...opts, port: first.port });
      expect(nginxGroupMembers(first.pid)).toEqual([]);
      const res = await call(second.url, ca, 'GET', '/api/v1/drones/drone-007/track');
      expect(res.status).toBe(200);
      await second.stop();
      expect(nginxGroupMembers(second.pid)).toEqual([]);
      expect(await accepts(second.port)).toBe(false);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('refuses a configuration nginx does not accept (nginx -t) and a missing nginx, with stable codes', async () => {
    const d = mkdtempSync(join(tmpdir(), 'aerie-gateway-bad-'));
    try {
      const base = { dir: d, port: 0, tlsCert: pki.serverCertFile, tlsKey: pki.serverKeyFile, core: ['127.0.0.1:1'], telemetry: ['127.0.0.1:2'] };
      // A key file that is not a key: only nginx's own check can tell.
      await expect(startGateway({ ...base, tlsKey: pki.caFile })).rejects.toMatchObject({ code: 'GW_ERR_CONFIG', message: expect.stringMatching(/nginx -t refused[\s\S]*key/) as unknown });
      await expect(startGateway({ ...base, nginxBin: '/nonexistent/nginx' })).rejects.toMatchObject({ code: 'GW_ERR_NGINX_MISSING' });
      expect(() => renderGatewayConfig({ ...base, port: 8443, core: ['127.0.0.1:1; include /etc/passwd'] })).toThrow(GatewayError);
      expect(() => renderGatewayConfig({ ...base, port: 8443, core: [] })).toThrow(/at least one upstream/);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
