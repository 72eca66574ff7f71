import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Authenticator, DeliveryService, MemoryDeliveryRepository, MemoryFleetLink, buildHttp, coreConfig } from '@aerie/delivery-core';
import { CONFIG_DEFAULTS, buildHttpApi, createMemoryLogger, createMemoryStore } from '@aerie/telemetry';
import { systemClock } from '@aerie/contracts';
import { makeTestPki, type TestPki } from '../../test-support/certs.js';
import { droneStatus } from '../../test-support/fixtures.js';
import { freePort } from '../../test-support/servers.js';
import { startGateway, type RunningGateway } from '../src/gateway.js';
import { call } from './gateway-helpers.js';

// Issue 8, Gateway Offloading of authentication: telemetry's routes pass the gateway only with a
// credential delivery-core accepts (nginx auth_request to /internal/v1/gateway-auth), and telemetry
// gets the principal the core vouched for in X-Aerie-* headers, never the client's own.
const body = { pickup: { lat: 47.399, lon: 8.547 }, dropoff: { lat: 47.401, lon: 8.55 } };
const KEYS = [
  { key: 'ops-key-0123456789', clientId: 'ops-1', role: 'operator' as const },
  { key: 'cust-a-key-0123456789', clientId: 'cust-a', role: 'customer' as const, account: 'acct-a' },
  { key: 'cust-b-key-0123456789', clientId: 'cust-b', role: 'customer' as const, account: 'acct-b' },
];
const bearer = (k: string) => ({ authorization: `Bearer ${k}` });

let pki: TestPki;
let ca: string;
let dir: string;
let gw: RunningGateway;
let core: FastifyInstance;
let telemetry: FastifyInstance;
let telemetryAddr: string;
/** The X-Aerie-* headers of each request telemetry received. */
const seen: { url: string; clientId?: string; role?: string; account?: string }[] = [];

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const a = app.server.address();
  return `127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
}
const get = (path: string, headers: Record<string, string> = {}) => call(gw.url, ca, 'GET', path, { headers });
const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join(',') : v);

beforeAll(async () => {
  pki = makeTestPki();
  ca = readFileSync(pki.caFile, 'utf8');
  dir = mkdtempSync(join(tmpdir(), 'aerie-gateway-auth-'));
  const config = coreConfig({ dbPath: ':memory:', trustedProxies: ['127.0.0.1'], auth: { keys: KEYS } });
  const service = new DeliveryService(new MemoryDeliveryRepository(), new MemoryFleetLink(), config, systemClock);
  core = buildHttp(service, new Authenticator(config.auth, systemClock));
  const coreAddr = await listen(core);
  const store = createMemoryStore();
  store.append([droneStatus({ droneId: 'drone-007', ts: Date.now() - 1000 })]);
  telemetry = buildHttpApi({ store, logger: createMemoryLogger(), trustedProxies: ['127.0.0.1'] });
  telemetry.addHook('onRequest', (req, _reply, done) => {
    seen.push({ url: req.url, clientId: one(req.headers['x-aerie-client-id']), role: one(req.headers['x-aerie-role']), account: one(req.headers['x-aerie-account']) });
    done();
  });
  telemetryAddr = await listen(telemetry);
  gw = await startGateway({ dir, port: 0, tlsCert: pki.serverCertFile, tlsKey: pki.serverKeyFile, core: [coreAddr], telemetry: [telemetryAddr] });
});

afterAll(async () => {
  await gw?.stop();
  await core?.close();
  await telemetry?.close();
  pki?.remove();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('telemetry behind the gateway needs a credential delivery-core accepts', () => {
  it('no key and a wrong key: 401 problem+json DLV_ERR_UNAUTHENTICATED with a Bearer challenge; telemetry never asked', async () => {
    const before = seen.length;
    for (const headers of [{}, bearer('not-a-key'), { 'x-api-key': 'not-a-key' }, bearer('a.b.c')] as Record<string, string>[]) {
      const res = await get('/api/v1/drones/drone-007/track', headers);
      expect(res.status, JSON.stringify(headers)).toBe(401);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      // The core's challenge (RFC 9110 §11.6.1), passed on by auth_request, once.
      expect(res.headers['www-authenticate']).toBe('Bearer realm="aerie"');
      expect(res.json()).toMatchObject({ status: 401, code: 'DLV_ERR_UNAUTHENTICATED', correlationId: res.headers['x-correlation-id'] });
    }
    for (const path of ['/api/v1/drones/drone-007/latest', '/api/v1/fleet', '/api/v1/history/x', '/api/v1/deliveries/d-1/track']) {
      expect((await get(path)).status, path).toBe(401);
    }
    expect(seen.length).toBe(before);
  });

  it('an operator key: 200 with the track; telemetry sees the principal the core vouched for, not the one the client claims', async () => {
    const res = await get('/api/v1/drones/drone-007/track', { ...bearer('ops-key-0123456789'), 'x-aerie-role': 'admin', 'x-aerie-account': 'acct-z' });
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ droneId: 'drone-007' });
    expect((res.json().points as unknown[]).length).toBe(1);
    expect(seen.at(-1)).toEqual({ url: '/api/v1/drones/drone-007/track', clientId: 'ops-1', role: 'operator', account: undefined });
    // X-Api-Key works as on the core's own API.
    expect((await get('/api/v1/drones/drone-007/latest', { 'x-api-key': 'ops-key-0123456789' })).status).toBe(200);
  });

  it('a customer: 403 DLV_ERR_ROLE_FORBIDDEN on drone telemetry; its own delivery\'s track passes, another account\'s is 403 DLV_ERR_FORBIDDEN', async () => {
    const drone = await get('/api/v1/drones/drone-007/track', bearer('cust-a-key-0123456789'));
    expect(drone.status).toBe(403);
    expect(drone.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(drone.json()).toMatchObject({ status: 403, code: 'DLV_ERR_ROLE_FORBIDDEN', type: 'https://aerie.dev/problems/DLV_ERR_ROLE_FORBIDDEN' });
    expect((await get('/api/v1/fleet', bearer('cust-a-key-0123456789'))).json()).toMatchObject({ code: 'DLV_ERR_ROLE_FORBIDDEN' });

    const put = await call(gw.url, ca, 'PUT', '/api/v1/deliveries/auth-d1', { body, headers: bearer('cust-a-key-0123456789') });
    expect(put.status).toBe(202);
    const before = seen.length;
    // Telemetry's own answer (this test's telemetry keeps no delivery events), not the gateway's.
    const own = await get('/api/v1/deliveries/auth-d1/track', { ...bearer('cust-a-key-0123456789'), 'x-aerie-role': 'admin' });
    expect(own.status).not.toBe(401);
    expect(own.status).not.toBe(403);
    expect(seen.slice(before)).toEqual([{ url: '/api/v1/deliveries/auth-d1/track', clientId: 'cust-a', role: 'customer', account: 'acct-a' }]);

    for (const id of ['auth-d1', 'no-such-delivery']) {
      const other = await get(`/api/v1/deliveries/${id}/track`, bearer('cust-b-key-0123456789'));
      expect(other.status, id).toBe(403);
      expect(other.json(), id).toMatchObject({ status: 403, code: 'DLV_ERR_FORBIDDEN' });
    }
    expect(seen.length).toBe(before + 1);
  });

  it('delivery-core not answering the check: 502 GW_ERR_UPSTREAM_UNAVAILABLE, and telemetry is not asked', async () => {
    const d = mkdtempSync(join(tmpdir(), 'aerie-gateway-auth-down-'));
    const down = await startGateway({ dir: d, port: 0, tlsCert: pki.serverCertFile, tlsKey: pki.serverKeyFile, core: [`127.0.0.1:${await freePort()}`], telemetry: [telemetryAddr] });
    try {
      const before = seen.length;
      const res = await call(down.url, ca, 'GET', '/api/v1/drones/drone-007/track', { headers: bearer('ops-key-0123456789') });
      expect(res.status).toBe(502);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ status: 502, code: 'GW_ERR_UPSTREAM_UNAVAILABLE', detail: expect.stringMatching(/checks the credential/) as unknown });
      expect(seen.length).toBe(before);
    } finally {
      await down.stop();
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('the auth endpoint is not public: the gateway answers 404 for it', async () => {
    expect((await get('/internal/v1/gateway-auth', bearer('ops-key-0123456789'))).json()).toMatchObject({ status: 404, code: 'GW_ERR_NOT_FOUND' });
    expect((await get('/_aerie/auth', bearer('ops-key-0123456789'))).status).toBe(404);
  });

  it('telemetry itself is internal-only: it binds loopback unless told otherwise, and there answers without a credential', async () => {
    // By design (README, Gateway): the gateway is the only way in from outside; telemetry listens on
    // 127.0.0.1 (a ClusterIP Service in Kubernetes) and trusts X-Forwarded-* from the gateway only.
    expect(CONFIG_DEFAULTS.httpHost).toBe('127.0.0.1');
    const status = await new Promise<number>((resolve, reject) => {
      request(`http://${telemetryAddr}/api/v1/drones/drone-007/track`, { agent: false }, (res) => {
        res.resume().on('end', () => resolve(res.statusCode ?? 0));
      }).once('error', reject).end();
    });
    expect(status).toBe(200);
  });
});
