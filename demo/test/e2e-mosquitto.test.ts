import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from 'vitest';
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
