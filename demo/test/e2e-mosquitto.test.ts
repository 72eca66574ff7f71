import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { encodeMessage, topics } from '@aerie/contracts';
import { droneStatus } from '../../test-support/fixtures.js';
import { startMosquitto, type MosquittoUser, type RunningMosquitto } from '../../test-support/mosquitto.js';
import { flyOneDelivery } from './e2e-loop.js';

const secret = () => randomBytes(12).toString('hex');
const users: MosquittoUser[] = [
  { username: 'svc-hub', password: secret(), role: 'service' },
  { username: 'svc-core', password: secret(), role: 'service' },
  { username: 'svc-telemetry', password: secret(), role: 'service' },
  ...['drone-001', 'drone-002', 'drone-003'].map((username) => ({ username, password: secret(), role: 'drone' as const })),
];
const creds = (name: string) => {
  const u = users.find((x) => x.username === name)!;
  return { username: u.username, password: u.password };
};
let mosquitto: RunningMosquitto;

beforeAll(async () => {
  mosquitto = await startMosquitto(users);
});
afterAll(async () => {
  await mosquitto?.stop();
});

describe("end to end with fleet-hub attached to Debian's Mosquitto", () => {
  it('a simulated drone flies a delivery through a broker we did not write', async () => {
    await flyOneDelivery({
      kind: 'external', url: mosquitto.url, hub: creds('svc-hub'), core: creds('svc-core'), telemetry: creds('svc-telemetry'), drone: creds,
    });
  }, 120_000);
});

describe('the Mosquitto configuration the tests and README ship', () => {
  it('refuses wrong credentials and drops a drone publishing under another drone\'s id', async () => {
    const bad = mqtt.connect(mosquitto.url, { clientId: 'drone-001', username: 'drone-001', password: 'wrong', protocolVersion: 4, reconnectPeriod: 0 });
    // Mosquitto answers a wrong password with CONNACK 5 (not authorized) in MQTT 3.1.1.
    await expect(new Promise((resolve, reject) => {
      bad.once('connect', resolve);
      bad.once('error', reject);
    })).rejects.toMatchObject({ code: 5 });
    bad.end(true);

    const spy = await mqtt.connectAsync(mosquitto.url, { clientId: 'spy', ...creds('svc-hub'), protocolVersion: 4 });
    const seen: string[] = [];
    spy.on('message', (t) => seen.push(t));
    await spy.subscribeAsync('fleet/v1/+/status', { qos: 1 });
    const d1 = await mqtt.connectAsync(mosquitto.url, { clientId: 'drone-001', ...creds('drone-001'), protocolVersion: 4 });
    await d1.publishAsync(topics.status('drone-002'), encodeMessage(droneStatus({ droneId: 'drone-002' })), { qos: 1 });
    await d1.publishAsync(topics.status('drone-001'), encodeMessage(droneStatus({ droneId: 'drone-001' })), { qos: 1 });
    const end = Date.now() + 5000;
    while (seen.length < 1 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    // Same connection, so Mosquitto handled the forged publish first: had it passed, it would be here.
    expect(seen).toEqual(['fleet/v1/drone-001/status']);
    await d1.endAsync();
    await spy.endAsync();
  });
});
