import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { DeliveryTracker, FleetHub, HubError, MemoryDeviceRegistry, parseHubCommand } from '../src/index.js';
import { decodeMessage, encodeMessage, subscriptions, topics, type DeliveryAssignment, type DeliveryTracking, type DroneStatus } from '@aerie/contracts';
import { droneStatus } from '../../test-support/fixtures.js';
import { until } from '../../test-support/until.js';

// Issue 5, Delivery tracking: the geofence radius is configurable and no-fly zones raise an alert,
// both set the way an operator sets them (aerie-hub --fence-radius, --no-fly FILE) and checked
// on a running hub over real MQTT, not only on the tracker.

const dir = mkdtempSync(join(tmpdir(), 'aerie-hub-geofence-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const home = { lat: 47.3977, lon: 8.5456 };
const pickup = { lat: 47.399, lon: 8.547 };
const dropoff = { lat: 47.401, lon: 8.55 };
// ~33 m north of the pickup: outside the default 15 m fence, inside a 40 m one.
const nearPickup = { lat: pickup.lat + 0.0003, lon: pickup.lon };
// Between home and the pickup, clear of both.
const zoneRing = [[8.5460, 47.3980], [8.5465, 47.3980], [8.5465, 47.3985], [8.5460, 47.3985], [8.5460, 47.3980]];
const inZone = { lat: 47.39825, lon: 8.54625 };
const assignment: DeliveryAssignment = {
  v: 1, deliveryId: 'dlv-g', droneId: 'drone-001', ts: 1, correlationId: 'corr-g', action: 'fly', pickup, dropoff, cruiseAltM: 30, groundDelayS: 5,
};
const at = (seq: number, p: { lat: number; lon: number }, landedState: DroneStatus['landedState']) =>
  droneStatus({ seq, ts: 1_700_000_000_000 + seq * 1000, armed: true, landedState, position: { ...p, altMsl: 488, altRel: landedState === 'ON_GROUND' ? 0 : 30 } });

function zonesFile(name: string, geojson: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(geojson));
  return file;
}
const zonesCollection = {
  type: 'FeatureCollection',
  features: [{ type: 'Feature', properties: { name: 'hospital' }, geometry: { type: 'Polygon', coordinates: [zoneRing] } }],
};

describe('aerie-hub --fence-radius and --no-fly', () => {
  it('parses both into the hub configuration (the same GeoJSON file aerie-core --no-fly reads)', () => {
    const file = zonesFile('zones.json', zonesCollection);
    const cmd = parseHubCommand(['--data-dir', dir, '--fence-radius', '40', '--no-fly', file], {});
    expect(cmd).toMatchObject({ kind: 'run', config: { fenceRadiusM: 40, noFlyZones: [{ name: 'hospital', ring: zoneRing }] } });
    const env = parseHubCommand(['--data-dir', dir], { AERIE_HUB_NO_FLY_FILE: file });
    expect(env.kind === 'run' && env.config.noFlyZones).toHaveLength(1);
    const multi = zonesFile('multi.json', [{ type: 'Feature', properties: null, geometry: { type: 'MultiPolygon', coordinates: [[zoneRing], [zoneRing]] } }]);
    const m = parseHubCommand(['--data-dir', dir, '--no-fly', multi], {});
    expect(m.kind === 'run' && m.config.noFlyZones.map((z) => z.name)).toEqual(['zone-0', 'zone-0']);
    expect(parseHubCommand(['--data-dir', dir], {})).toMatchObject({ config: { fenceRadiusM: 15, noFlyZones: [] } });
  });

  it('refuses a bad radius and a bad zones file with HUB_ERR_CONFIG, before anything starts', () => {
    const refused = (argv: string[]) => {
      try {
        parseHubCommand(['--data-dir', dir, ...argv], {});
      } catch (err) {
        return err instanceof HubError ? err.code : String(err);
      }
      return 'accepted';
    };
    expect(refused(['--fence-radius', '0'])).toBe('HUB_ERR_CONFIG');
    expect(refused(['--fence-radius', 'wide'])).toBe('HUB_ERR_CONFIG');
    expect(refused(['--no-fly', join(dir, 'missing.json')])).toBe('HUB_ERR_CONFIG');
    expect(refused(['--no-fly', zonesFile('garbage.json', 'not geojson')])).toBe('HUB_ERR_CONFIG');
    expect(refused(['--no-fly', zonesFile('point.json', [{ type: 'Feature', geometry: { type: 'Point', coordinates: [8.5, 47.3] } }])])).toBe('HUB_ERR_CONFIG');
    const open = zoneRing.slice(0, 4);
    expect(refused(['--no-fly', zonesFile('open.json', [{ type: 'Feature', geometry: { type: 'Polygon', coordinates: [open] } }])])).toBe('HUB_ERR_CONFIG');
  });

  it('the tracker counts a landing as the pickup by the configured radius', () => {
    const stagesWith = (radius: number) => {
      const t = new DeliveryTracker({ fenceRadiusM: radius });
      t.assign(assignment);
      return [at(1, home, 'TAKEOFF'), at(2, nearPickup, 'ON_GROUND')].flatMap((s) => t.onStatus(s)).map((e) => e.type);
    };
    expect(stagesWith(15)).not.toContain('PackagePickedUp');
    expect(stagesWith(40)).toContain('PackagePickedUp');
  });
});

describe('a hub started from aerie-hub flags, over MQTT', () => {
  let hub: FleetHub | undefined;
  const clients: MqttClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.endAsync(true);
    await hub?.close();
    hub = undefined;
  });

  it('publishes a no_fly_zone alert with the correlationId when the drone enters a zone, and picks up by its 40 m fence', async () => {
    const cmd = parseHubCommand(['--mqtt-port', '0', '--data-dir', join(dir, 'hub'), '--fence-radius', '40', '--no-fly', zonesFile('hub-zones.json', zonesCollection)], {});
    if (cmd.kind !== 'run') throw new Error('expected a run command');
    const registry = new MemoryDeviceRegistry();
    const secrets = new Map<string, string>();
    for (const [id, role] of [['drone-001', 'drone'], ['svc-core', 'service']] as const) secrets.set(id, (await registry.add(id, role)).secret);
    const h = await FleetHub.start(cmd.config, { registry, log: () => undefined });
    hub = h;
    const connect = async (id: string) => {
      const c = await mqtt.connectAsync(h.mqttUrl, { clientId: id, username: id, password: secrets.get(id), protocolVersion: 4, reconnectPeriod: 0 });
      clients.push(c);
      return c;
    };
    const core = await connect('svc-core');
    const got: { topic: string; e: DeliveryTracking }[] = [];
    core.on('message', (topic, p) => {
      const d = decodeMessage('DeliveryTracking', p);
      if (d.ok) got.push({ topic, e: d.value });
    });
    await core.subscribeAsync([subscriptions.allTracking, subscriptions.allAlerts], { qos: 1 });
    const drone = await connect('drone-001');
    const commands: string[] = [];
    drone.on('message', (t) => commands.push(t));
    await drone.subscribeAsync(topics.command('drone-001'), { qos: 1 });
    await core.publishAsync(topics.assignment('dlv-g'), encodeMessage(assignment), { qos: 1, retain: true });
    // The mission command says the hub holds the assignment: the statuses that follow are tracked.
    await until(() => commands.length > 0, 'the mission command');

    await drone.publishAsync(topics.status('drone-001'), encodeMessage(at(1, home, 'TAKEOFF')), { qos: 1 });
    await until(() => got.find((g) => g.e.type === 'DeliveryHeadedToPickup'), 'HeadedToPickup');
    expect(got.some((g) => g.e.alert === 'no_fly_zone')).toBe(false);
    await drone.publishAsync(topics.status('drone-001'), encodeMessage(at(2, inZone, 'IN_AIR')), { qos: 1 });
    const alert = await until(() => got.find((g) => g.e.alert === 'no_fly_zone'), 'the no-fly-zone alert');
    expect(alert).toMatchObject({
      topic: 'svc/v1/alerts/dlv-g',
      e: { type: 'DeliveryAlert', deliveryId: 'dlv-g', droneId: 'drone-001', correlationId: 'corr-g', reason: 'inside no-fly zone hospital', location: { lat: inZone.lat, lon: inZone.lon } },
    });
    // ~33 m from the pickup: a pickup only because the hub runs with --fence-radius 40.
    await drone.publishAsync(topics.status('drone-001'), encodeMessage(at(3, nearPickup, 'ON_GROUND')), { qos: 1 });
    await until(() => got.find((g) => g.e.type === 'PackagePickedUp'), 'PackagePickedUp by the 40 m fence');
    expect(got.filter((g) => g.e.alert === 'no_fly_zone')).toHaveLength(1);
  });
});
