import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Authenticator, DeliveryService, MemoryDeliveryRepository, MemoryFleetLink, buildHttp, coreConfig } from '@aerie/delivery-core';
import { buildHttpApi, createMemoryLogger, createMemoryStore } from '@aerie/telemetry';
import { makeTestPki, type TestPki } from '../../test-support/certs.js';
import { startGateway, type RunningGateway } from '../src/gateway.js';
import { call } from './gateway-helpers.js';

// Issue 8: the services believe X-Forwarded-For only from the gateway (AERIE_CORE_TRUSTED_PROXIES,
// AERIE_TELEMETRY_TRUSTED_PROXIES). Seen where the client address is used: the core's tracking
// page rate-limits per client address (bucket "ip:<address>", named in the 429's detail), and
// telemetry names the client in its 5xx log line.
const now = 1_700_000_000_000;
// A clock that stands still: no bucket refills during the test.
const clock = { now: () => now, setTimeout: () => 0, clearTimeout: () => undefined, setInterval: () => 0, clearInterval: () => undefined };

let pki: TestPki;
let ca: string;
let dir: string;
let gw: RunningGateway;
const servers: FastifyInstance[] = [];
let coreTrusting: string;
let coreDoubting: string;
let telTrusting: string;
let telDoubting: string;
const telLogTrusting = createMemoryLogger();
const telLogDoubting = createMemoryLogger();

async function listen(app: FastifyInstance): Promise<string> {
  servers.push(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const a = app.server.address();
  return `127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
}

function core(trustedProxies: string[]): FastifyInstance {
  const config = coreConfig({ dbPath: ':memory:', trustedProxies, auth: { ratePerSec: 1, burst: 2 } });
  const service = new DeliveryService(new MemoryDeliveryRepository(), new MemoryFleetLink(), config, clock);
  return buildHttp(service, new Authenticator(config.auth, clock));
}

function telemetry(trustedProxies: string[], logger: ReturnType<typeof createMemoryLogger>): FastifyInstance {
  // A closed store answers 503 TEL_ERR_STORE_CLOSED, which telemetry logs with the client.
  const store = createMemoryStore();
  store.close();
  return buildHttpApi({ store, logger, trustedProxies });
}

/** Plain HTTP straight to a service (no gateway), from 127.0.0.1, with a forged X-Forwarded-For. */
function direct(addr: string, path: string, xff: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(`http://${addr}${path}`, { headers: { 'x-forwarded-for': xff, 'x-forwarded-proto': 'https' }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
    });
    req.once('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  pki = makeTestPki();
  ca = readFileSync(pki.caFile, 'utf8');
  dir = mkdtempSync(join(tmpdir(), 'aerie-gateway-trust-'));
  coreTrusting = await listen(core(['127.0.0.1']));
  coreDoubting = await listen(core(['10.9.9.9']));
  telTrusting = await listen(telemetry(['127.0.0.0/8'], telLogTrusting));
  telDoubting = await listen(telemetry([], telLogDoubting));
  gw = await startGateway({ dir, port: 0, tlsCert: pki.serverCertFile, tlsKey: pki.serverKeyFile, core: [coreTrusting], telemetry: [telTrusting] });
});

afterAll(async () => {
  await gw?.stop();
  for (const s of servers) await s.close();
  pki?.remove();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('X-Forwarded-For is believed from the trusted gateway only', () => {
  it('delivery-core: from a trusted peer each forwarded client has its own bucket; from another peer the header is ignored', async () => {
    // Trusted peer: 203.0.113.1 spends its burst of 2 (404: no such tracked delivery), 203.0.113.2 still has its own.
    expect((await direct(coreTrusting, '/track/d-1?t=x', '203.0.113.1')).status).toBe(404);
    expect((await direct(coreTrusting, '/track/d-1?t=x', '203.0.113.1')).status).toBe(404);
    const over = await direct(coreTrusting, '/track/d-1?t=x', '203.0.113.1');
    expect(over.status).toBe(429);
    expect(over.body.detail).toMatch(/client ip:203\.0\.113\.1 /);
    expect((await direct(coreTrusting, '/track/d-1?t=x', '203.0.113.2')).status).toBe(404);

    // Untrusted peer (its list names only 10.9.9.9): every forged address shares the peer's bucket.
    expect((await direct(coreDoubting, '/track/d-1?t=x', '203.0.113.1')).status).toBe(404);
    expect((await direct(coreDoubting, '/track/d-1?t=x', '203.0.113.2')).status).toBe(404);
    const shared = await direct(coreDoubting, '/track/d-1?t=x', '203.0.113.3');
    expect(shared.status).toBe(429);
    expect(shared.body.detail).toMatch(/client ip:127\.0\.0\.1 /);
  });

  it('delivery-core behind the gateway: the bucket is the real client address, whatever X-Forwarded-For the client sends', async () => {
    // The client connects from 127.0.0.2, the gateway reaches the core from 127.0.0.1.
    const viaGateway = (xff: string) => call(gw.url, ca, 'GET', '/track/d-2?t=x', { headers: { 'x-forwarded-for': xff }, localAddress: '127.0.0.2' });
    expect((await viaGateway('198.51.100.1')).status).toBe(404);
    expect((await viaGateway('198.51.100.2')).status).toBe(404);
    const over = await viaGateway('198.51.100.3');
    expect(over.status).toBe(429);
    expect(over.json()).toMatchObject({ code: 'DLV_ERR_RATE_LIMITED', detail: expect.stringMatching(/client ip:127\.0\.0\.2 /) as unknown });
  });

  it('telemetry: the client it logs is the forwarded one only from a trusted peer', async () => {
    expect((await direct(telTrusting, '/api/v1/drones/drone-001/track', '203.0.113.7')).status).toBe(503);
    expect(telLogTrusting.lines.at(-1)).toMatch(/client=203\.0\.113\.7 code=TEL_ERR_STORE_CLOSED/);
    expect((await direct(telDoubting, '/api/v1/drones/drone-001/track', '203.0.113.7')).status).toBe(503);
    expect(telLogDoubting.lines.at(-1)).toMatch(/client=127\.0\.0\.1 code=TEL_ERR_STORE_CLOSED/);
    // Through the gateway, from 127.0.0.2 with a forged header: the real client.
    const res = await call(gw.url, ca, 'GET', '/api/v1/drones/drone-001/track', { headers: { 'x-forwarded-for': '203.0.113.8' }, localAddress: '127.0.0.2' });
    expect(res.status).toBe(503);
    expect(res.json()).toMatchObject({ code: 'TEL_ERR_STORE_CLOSED' });
    expect(telLogTrusting.lines.at(-1)).toMatch(/client=127\.0\.0\.2 code=TEL_ERR_STORE_CLOSED/);
  });

  it('refuses a trusted proxy list entry that is no address, at configuration', () => {
    expect(() => coreConfig({ trustedProxies: ['gateway.local'] })).toThrow(/trustedProxies: "gateway.local" is not an IP address or CIDR/);
    expect(() => coreConfig({ trustedProxies: ['10.0.0.0/8', '::1', 'loopback'] })).not.toThrow();
  });
});
