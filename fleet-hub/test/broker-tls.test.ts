import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import { FleetHub, MemoryDeviceRegistry, hubConfig } from '../src/index.js';
import { encodeMessage, topics } from '@aerie/contracts';
import { droneStatus } from '../../test-support/fixtures.js';
import { makeTestPki, type TestPki } from '../../test-support/certs.js';
import { until } from '../../test-support/until.js';

let pki: TestPki;
let hub: FleetHub;
let registry: MemoryDeviceRegistry;
let secret = '';
const clients: MqttClient[] = [];

beforeAll(() => {
  pki = makeTestPki();
});
afterAll(() => pki.remove());
beforeEach(async () => {
  registry = new MemoryDeviceRegistry();
  secret = (await registry.add('drone-001', 'drone')).secret;
  await registry.add('drone-002', 'drone');
  hub = await FleetHub.start(hubConfig({
    mqttPort: 0, tlsPort: 0, tlsCertFile: pki.serverCertFile, tlsKeyFile: pki.serverKeyFile, tlsCaFile: pki.caFile,
  }), { registry, log: () => undefined });
});
afterEach(async () => {
  for (const c of clients.splice(0)) await c.endAsync(true);
  await hub.close();
});

function connectTls(clientId: string, extra: mqtt.IClientOptions): Promise<MqttClient> {
  const c = mqtt.connect(hub.mqttsUrl, { clientId, protocolVersion: 4, reconnectPeriod: 0, ca: readFileSync(pki.caFile), ...extra });
  clients.push(c);
  return new Promise((resolve, reject) => {
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
}

describe('mqtts listener and X.509 client certificates', () => {
  it('lets a drone in by a certificate whose subject names it, with no password', async () => {
    const c = await connectTls('drone-001', pki.client('drone-001'));
    await c.publishAsync(topics.status('drone-001'), encodeMessage(droneStatus({ seq: 1 })), { qos: 1 });
    await until(() => hub.fleet.get('drone-001')?.status, 'the status over mqtts');
  });

  it('still takes username and password over TLS', async () => {
    await connectTls('drone-001', { username: 'drone-001', password: secret });
  });

  it("refuses a certificate for an unknown device, a revoked one, and another drone's client id", async () => {
    await expect(connectTls('drone-999', pki.client('drone-999'))).rejects.toMatchObject({ code: 4 });
    await expect(connectTls('drone-001', pki.client('drone-002'))).rejects.toMatchObject({ code: 5 });
    await hub.revoke('drone-002');
    await expect(connectTls('drone-002', pki.client('drone-002'))).rejects.toMatchObject({ code: 5 });
    expect(hub.counters.refused).toMatchObject({ HUB_ERR_BAD_CREDENTIALS: 1, HUB_ERR_CLIENT_ID: 1, HUB_ERR_REVOKED: 1 });
  });
});
