import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { startSimVehicle, WarpClock, type SimVehicle } from '@aerie/simulator';
import { encodeMessage, topics, type DeliveryAssignment, type DroneCommand, type DroneStatus } from '@aerie/contracts';
import { FleetHub, MemoryDeviceRegistry, MemoryTelemetryWriter, hubConfig } from '@aerie/fleet-hub';
import { SpoolingUplink, agentConfig, startEdgeAgent, type RunningAgent } from '../src/index.js';
import { IotHubUplink } from '../src/adapters/iothub-uplink.js';
import { makeTestPki, type TestPki } from '../../test-support/certs.js';
import { until } from '../../test-support/until.js';
import { droneStatus } from '../../test-support/fixtures.js';

// The agent's IoT Hub transport (real azure-iot-device SDK, MQTT over TLS) against fleet-hub's
// IoT Hub-compatible endpoint, with a simulated PX4 on real UDP MAVLink behind the agent.

const home = { lat: 47.3977, lon: 8.5456, altMsl: 488 };
let pki: TestPki;
let registry: MemoryDeviceRegistry;
let key = '';
let renewKey = '';
let opsSecret = '';
let hub: FleetHub | null = null;
let agent: RunningAgent | null = null;
let vehicle: SimVehicle | null = null;
const uplinks: IotHubUplink[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  pki = makeTestPki();
  registry = new MemoryDeviceRegistry();
  key = (await registry.add('drone-007', 'drone', 'sas')).secret;
  await registry.add('drone-x509', 'drone');
  renewKey = (await registry.add('drone-renew', 'drone', 'sas')).secret;
  opsSecret = (await registry.add('ops', 'service')).secret;
});
afterAll(() => {
  pki.remove();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
afterEach(async () => {
  await vehicle?.stop();
  await agent?.stop();
  for (const u of uplinks.splice(0)) await u.close();
  await hub?.close();
  vehicle = null;
  agent = null;
  hub = null;
});

async function startHub(iothubPort = 0, writer?: MemoryTelemetryWriter): Promise<FleetHub> {
  hub = await FleetHub.start(hubConfig({
    mqttPort: 0, iothubPort, iothubHttpPort: 0, tlsCertFile: pki.serverCertFile, tlsKeyFile: pki.serverKeyFile, tlsCaFile: pki.caFile,
  }), { registry, log: () => undefined, ...(writer ? { writer } : {}) });
  return hub;
}

async function startAgent(port: number, spoolDir: string | null = null): Promise<RunningAgent> {
  const clock = new WarpClock({ speedup: 5 });
  agent = await startEdgeAgent(agentConfig({
    droneId: 'drone-007', fc: { port: 0 }, uplink: 'iothub',
    iothub: { connectionString: `HostName=localhost:${port};DeviceId=drone-007;SharedAccessKey=${key}`, ca: pki.caFile },
    ...(spoolDir ? { spool: { dir: spoolDir } } : {}),
  }), { clock });
  vehicle = await startSimVehicle({ sysid: 7, home, clock, port: 0, peer: { address: '127.0.0.1', port: agent.fcPort } });
  return agent;
}

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${hub!.iothub!.apiUrl}${path}`, {
    method, headers: { authorization: `Basic ${Buffer.from(`ops:${opsSecret}`).toString('base64')}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() };
}

describe('edge agent on the IoT Hub transport → fleet-hub IoT Hub endpoint', () => {
  it('statuses, events, a C2D mission and a direct method round trip, reported twin properties', async () => {
    const h = await startHub();
    await startAgent(h.iothub!.endpoint.port);
    await until(() => h.fleet.get('drone-007')?.status?.gps.fix, 'a DroneStatus with a GPS fix in the hub');
    // Reported properties: the agent's version and its configuration, without secrets.
    // The uplink reports before it counts as connected, so the twin is there once statuses are.
    const twin = await api('GET', '/twins/drone-007');
    expect(twin.body).toMatchObject({ connectionState: 'Connected', properties: { reported: { agentVersion: '0.1.0', config: { droneId: 'drone-007', fc: { link: 'udp' }, commandHmac: false } } } });
    expect(JSON.stringify(twin.body)).not.toContain(key);

    // A delivery assignment from the core → the hub's mission command → cloud-to-device → the agent
    // uploads it to the simulated FC and starts it; the CommandResult comes back as telemetry.
    const core = await mqtt.connectAsync(h.mqttUrl, { clientId: 'ops', username: 'ops', password: opsSecret, protocolVersion: 4 });
    const a: DeliveryAssignment = {
      v: 1, deliveryId: 'dlv-9', droneId: 'drone-007', ts: Date.now(), correlationId: 'corr-9', action: 'fly',
      pickup: { lat: 47.3980, lon: 8.5460 }, dropoff: { lat: 47.3990, lon: 8.5470 }, cruiseAltM: 20, groundDelayS: 2,
    };
    await core.publishAsync(topics.assignment('dlv-9'), encodeMessage(a), { qos: 1, retain: true });
    await until(() => h.counters.messagesIn['cmd/result'] === 1, 'the mission CommandResult in the hub');
    await until(() => h.fleet.get('drone-007')?.status?.armed, 'the drone armed and flying the mission');
    await until(() => (h.counters.events ?? 0) > 0, 'DroneEvents in the hub');
    expect(h.counters.transitions.Failed).toBeUndefined();
    await core.endAsync();

    // A direct method: name = command kind, payload = the DroneCommand, response = the CommandResult.
    const rtl: DroneCommand = { v: 1, commandId: 'rtl-9', droneId: 'drone-007', ts: Date.now(), action: { kind: 'rtl' } };
    const r = await api('POST', '/twins/drone-007/methods', { methodName: 'rtl', payload: rtl, responseTimeoutInSeconds: 20 });
    expect(r).toMatchObject({ status: 200, body: { status: 200, payload: { commandId: 'rtl-9', droneId: 'drone-007', outcome: 'accepted', code: 'AGENT_OK' } } });
    await until(() => h.counters.messagesIn['cmd/result'] === 2, 'the method result in the pipeline too');
    await until(() => h.fleet.get('drone-007')?.status?.flightMode === 'RETURN', 'returning to launch');
    // A method whose payload is not its command is answered 400 by the agent.
    const bad = await api('POST', '/twins/drone-007/methods', { methodName: 'land', payload: rtl, responseTimeoutInSeconds: 5 });
    expect(bad).toMatchObject({ status: 200, body: { status: 400 } });
  });

  it('store-and-forward: an outage of the hub is spooled on disk and drained into the restarted hub', async () => {
    const h1 = await startHub();
    const port = h1.iothub!.endpoint.port;
    const spoolDir = mkdtempSync(join(tmpdir(), 'h2-iothub-spool-'));
    dirs.push(spoolDir);
    const a = await startAgent(port, spoolDir);
    await until(() => h1.fleet.get('drone-007')?.status, 'statuses before the outage');
    const spooling = a.uplink as SpoolingUplink;
    expect(spooling).toBeInstanceOf(SpoolingUplink);
    await h1.close();
    hub = null;
    await until(() => !a.uplink.connected, 'the agent noticing the outage');
    await until(() => spooling.spool.length >= 10, 'statuses spooled during the outage');
    const seen: DroneStatus[] = [];
    const h2 = await startHub(port, new MemoryTelemetryWriter((batch) => seen.push(...batch)));
    await until(() => a.uplink.connected && spooling.spool.length === 0, 'the spool drained after reconnecting', 30_000);
    expect(spooling.spool.stats.forwarded).toBe(spooling.spool.stats.appended);
    expect(spooling.spool.stats.dropped).toEqual({ status: 0, event: 0, result: 0 });
    await until(() => (h2.counters.messagesIn.status ?? 0) >= spooling.spool.stats.forwarded, 'every forwarded message taken in by the new hub');
    expect(seen.length).toBeGreaterThan(0);
  });

  it('an X.509 device connects with its certificate; a wrong key is refused and counted', async () => {
    const h = await startHub();
    const port = h.iothub!.endpoint.port;
    const dir = mkdtempSync(join(tmpdir(), 'h2-iothub-x509-'));
    dirs.push(dir);
    pki.client('drone-x509');
    const u = await IotHubUplink.connect({
      connectionString: `HostName=localhost:${port};DeviceId=drone-x509;x509=true`, ca: pki.caFile,
      cert: join(pki.dir, 'drone-x509.crt'), key: join(pki.dir, 'drone-x509.key'), reported: { agentVersion: 'test' },
    });
    uplinks.push(u);
    const status = droneStatus({ droneId: 'drone-x509', seq: 1 });
    expect(await u.publishConfirmed('status', Buffer.from(JSON.stringify(status)))).toBe(true);
    await until(() => h.fleet.get('drone-x509')?.status?.seq === 1, 'the X.509 device status in the fleet state');
    expect(h.iothub!.endpoint.twin('drone-x509').reported).toMatchObject({ agentVersion: 'test' });

    const wrong = Buffer.alloc(32, 9).toString('base64');
    await expect(IotHubUplink.connect({ connectionString: `HostName=localhost:${port};DeviceId=drone-007;SharedAccessKey=${wrong}`, ca: pki.caFile, cert: null, key: null, reported: {} })).rejects.toThrow();
    expect(h.iothub!.endpoint.refusedByReason.IOTHUB_BAD_SIGNATURE).toBe(1);
    expect(h.counters.refused.HUB_ERR_BAD_CREDENTIALS).toBe(1);
  });

  it('revocation drops the agent at once; it keeps retrying and stays out', async () => {
    const h = await startHub();
    const port = h.iothub!.endpoint.port;
    const u = await IotHubUplink.connect({ connectionString: `HostName=localhost:${port};DeviceId=drone-007;SharedAccessKey=${key}`, ca: pki.caFile, cert: null, key: null, reported: {}, retryMinMs: 50, retryMaxMs: 200 });
    uplinks.push(u);
    const downs: boolean[] = [];
    u.onConnectionChange((up) => downs.push(up));
    await h.revoke('drone-007');
    await until(() => downs.includes(false), 'the agent seeing the drop');
    await until(() => (h.iothub!.endpoint.refusedByReason.IOTHUB_REVOKED ?? 0) >= 2, 'reconnects refused as revoked');
    expect(u.connected).toBe(false);
    expect(await u.publishConfirmed('status', Buffer.from('{}'))).toBe(false);
    u.publishStatus(droneStatus({ droneId: 'drone-007', seq: 99 }));
    await until(() => u.dropped === 1, 'the publish while down counted as dropped');
  });

  it('renews its SAS token before the hub ends the session, and commands still arrive after the renewal', async () => {
    const h = await startHub();
    const port = h.iothub!.endpoint.port;
    // An 8 s token renewed 5 s before expiry: the hub closes a session at its token's expiry.
    const u = await IotHubUplink.connect({ connectionString: `HostName=localhost:${port};DeviceId=drone-renew;SharedAccessKey=${renewKey}`, ca: pki.caFile, cert: null, key: null, reported: {}, tokenValidS: 8, tokenRenewalMarginS: 5 });
    uplinks.push(u);
    const got: string[] = [];
    u.onCommand((p) => {
      const cmd = JSON.parse(p.toString()) as DroneCommand;
      got.push(cmd.commandId);
      u.publishResult({ v: 1, commandId: cmd.commandId, droneId: 'drone-renew', ts: Date.now(), outcome: 'accepted', code: 'AGENT_OK', mavResult: null, message: 'ok' });
    });
    const changes: boolean[] = [];
    u.onConnectionChange((up) => changes.push(up));
    const start = Date.now();
    await until(() => Date.now() - start > 9_000, 'past the first token’s expiry', 15_000);
    // Renewed in place: the uplink never saw the session end, and no login was refused.
    expect(changes).toEqual([]);
    expect(h.iothub!.endpoint.refusedByReason).toEqual({});
    expect(u.connected).toBe(true);
    const rtl: DroneCommand = { v: 1, commandId: 'rtl-after-renewal', droneId: 'drone-renew', ts: Date.now(), action: { kind: 'rtl' } };
    expect(h.iothub!.takeCommand(topics.command('drone-renew'), encodeMessage({ ...rtl, commandId: 'c2d-after-renewal' }))).toBe(true);
    await until(() => got.includes('c2d-after-renewal'), 'the C2D command after the renewal');
    const r = await api('POST', '/twins/drone-renew/methods', { methodName: 'rtl', payload: rtl, responseTimeoutInSeconds: 10 });
    expect(r).toMatchObject({ status: 200, body: { status: 200, payload: { commandId: 'rtl-after-renewal', outcome: 'accepted' } } });
  }, 30_000);
});
