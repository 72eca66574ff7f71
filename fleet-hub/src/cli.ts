import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultHubConfig, hubConfig, type HubConfig } from './config.js';
import { HubError } from './errors.js';

export type HubCommand =
  | { kind: 'run'; config: Readonly<HubConfig> }
  | { kind: 'device-add'; dataDir: string; id: string; role: 'drone' | 'service'; auth: 'password' | 'sas' | 'x509' }
  | { kind: 'device-list'; dataDir: string }
  | { kind: 'device-revoke'; dataDir: string; id: string };

export const USAGE = `usage:
  aerie-hub [--mqtt-host H] [--mqtt-port P] [--data-dir DIR] [--fence-radius M] [--no-fly FILE]
                 FILE: GeoJSON no-fly zones (FeatureCollection or array of Polygon/MultiPolygon Features, as aerie-core --no-fly);
                 a drone on a delivery inside one raises a no_fly_zone alert
  aerie-hub --external-url mqtt://host:port --external-username U --external-password P [--shared-group G]
  (either form) [--metrics-port P]   Prometheus text at http://HOST:P/metrics; probes GET /livez and /readyz there
  (either form) [--shutdown-grace-ms MS (20000)]   SIGTERM: hand over, finish what is queued, exit 0 within this (a second signal exits at once)
  (either form) [--status-journal FILE]   a JSON line per accepted status (droneId, bootId, seq, ts)
  (embedded) [--ws-port P]   MQTT over WebSocket
  (embedded) [--tls-port P --tls-cert F --tls-key F --tls-ca F]   mqtts; drones may use X.509 client certificates (subject CN = drone id)
  (embedded) [--iothub-port P [--iothub-hostname H] [--iothub-http-port P]] --tls-cert F --tls-key F --tls-ca F
                 IoT Hub-compatible device endpoint (mqtts; SAS tokens or X.509) and its service API (twins, direct methods)
  (either form) [--source eventhubs --eventhubs-name NAME [--eventhubs-consumer-group G] [--checkpoint-container C] [--eventhubs-balance-ms MS]]
                 cloud mode: also read IoT Hub's built-in Event Hubs-compatible endpoint; needs AERIE_HUB_EVENTHUBS_CONNECTION_STRING
                 and AERIE_HUB_CHECKPOINT_STORAGE_CONNECTION_STRING (hubs sharing group and container share the partitions)
  (either form) [--event-stream eventhubs --event-stream-hub NAME]   tracking events to an event hub (partition key = deliveryId)
                 instead of DATA_DIR/events; needs AERIE_HUB_EVENT_STREAM_CONNECTION_STRING and AERIE_HUB_CHECKPOINT_STORAGE_CONNECTION_STRING
  aerie-hub device add ID [--role drone|service] [--auth password|sas|x509] --data-dir DIR   (prints the new secret or symmetric key once)
  aerie-hub device list --data-dir DIR
  aerie-hub device revoke ID --data-dir DIR
environment: AERIE_HUB_MQTT_PORT, AERIE_HUB_DATA_DIR, AERIE_HUB_EXTERNAL_URL, AERIE_HUB_EXTERNAL_USERNAME, AERIE_HUB_EXTERNAL_PASSWORD,
  AERIE_HUB_SHARED_GROUP, AERIE_HUB_METRICS_PORT, AERIE_HUB_SOURCE, AERIE_HUB_EVENTHUBS_CONNECTION_STRING, AERIE_HUB_EVENTHUBS_NAME,
  AERIE_HUB_EVENTHUBS_CONSUMER_GROUP, AERIE_HUB_CHECKPOINT_STORAGE_CONNECTION_STRING, AERIE_HUB_CHECKPOINT_CONTAINER, AERIE_HUB_EVENT_STREAM,
  AERIE_HUB_EVENT_STREAM_HUB, AERIE_HUB_EVENT_STREAM_CONNECTION_STRING, AERIE_HUB_NO_FLY_FILE, AERIE_HUB_SHUTDOWN_GRACE_MS, AERIE_HUB_STATUS_JOURNAL`;

/** Parses argv and the AERIE_HUB_* environment once; nothing else reads either. */
export function parseHubCommand(argv: string[], env: NodeJS.ProcessEnv): HubCommand {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'mqtt-host': { type: 'string' },
      'mqtt-port': { type: 'string' },
      'data-dir': { type: 'string' },
      'fence-radius': { type: 'string' },
      'no-fly': { type: 'string' },
      'external-url': { type: 'string' },
      'external-username': { type: 'string' },
      'external-password': { type: 'string' },
      'shared-group': { type: 'string' },
      'metrics-port': { type: 'string' },
      'shutdown-grace-ms': { type: 'string' },
      'status-journal': { type: 'string' },
      'tls-port': { type: 'string' },
      'ws-port': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'tls-ca': { type: 'string' },
      'iothub-port': { type: 'string' },
      'iothub-hostname': { type: 'string' },
      'iothub-http-port': { type: 'string' },
      source: { type: 'string' },
      'eventhubs-name': { type: 'string' },
      'eventhubs-consumer-group': { type: 'string' },
      'checkpoint-container': { type: 'string' },
      'eventhubs-balance-ms': { type: 'string' },
      'event-stream': { type: 'string' },
      'event-stream-hub': { type: 'string' },
      role: { type: 'string' },
      auth: { type: 'string' },
    },
  });
  const dataDir = values['data-dir'] ?? env.AERIE_HUB_DATA_DIR ?? join('.aerie-data', 'hub');
  if (positionals[0] === 'device') {
    const [, verb, id] = positionals;
    if (verb === 'list') return { kind: 'device-list', dataDir };
    if (!id) throw new HubError('HUB_ERR_CONFIG', `device ${verb ?? ''} needs an ID\n${USAGE}`);
    if (verb === 'add') {
      const role = values.role ?? 'drone';
      if (role !== 'drone' && role !== 'service') throw new HubError('HUB_ERR_CONFIG', '--role must be drone or service');
      const auth = values.auth ?? 'password';
      if (auth !== 'password' && auth !== 'sas' && auth !== 'x509') throw new HubError('HUB_ERR_CONFIG', '--auth must be password, sas or x509');
      return { kind: 'device-add', dataDir, id, role, auth };
    }
    if (verb === 'revoke') return { kind: 'device-revoke', dataDir, id };
    throw new HubError('HUB_ERR_CONFIG', `unknown device command "${verb ?? ''}"\n${USAGE}`);
  }
  if (positionals.length > 0) throw new HubError('HUB_ERR_CONFIG', `unexpected "${positionals.join(' ')}"\n${USAGE}`);
  const num = (raw: string | undefined, name: string): number | undefined => {
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new HubError('HUB_ERR_CONFIG', `${name} must be a number, got "${raw}"`);
    return n;
  };
  const externalUrl = values['external-url'] ?? env.AERIE_HUB_EXTERNAL_URL ?? '';
  const overrides: Partial<HubConfig> = {
    dataDir,
    retainedFile: join(dataDir, 'retained.json'),
    iothubStateDir: join(dataDir, 'iothub'),
    broker: externalUrl ? 'external' : 'embedded',
    externalUrl,
    externalUsername: values['external-username'] ?? env.AERIE_HUB_EXTERNAL_USERNAME ?? '',
    externalPassword: values['external-password'] ?? env.AERIE_HUB_EXTERNAL_PASSWORD ?? '',
    sharedGroup: values['shared-group'] ?? env.AERIE_HUB_SHARED_GROUP ?? '',
  };
  const metricsPort = num(values['metrics-port'] ?? env.AERIE_HUB_METRICS_PORT, '--metrics-port');
  if (metricsPort !== undefined) overrides.metricsPort = metricsPort;
  const graceMs = num(values['shutdown-grace-ms'] ?? env.AERIE_HUB_SHUTDOWN_GRACE_MS, '--shutdown-grace-ms');
  if (graceMs !== undefined) overrides.shutdownGraceMs = graceMs;
  const journal = values['status-journal'] ?? env.AERIE_HUB_STATUS_JOURNAL;
  if (journal) overrides.statusJournal = journal;
  const wsPort = num(values['ws-port'], '--ws-port');
  if (wsPort !== undefined) overrides.wsPort = wsPort;
  const tlsPort = num(values['tls-port'], '--tls-port');
  if (tlsPort !== undefined) overrides.tlsPort = tlsPort;
  const iothubPort = num(values['iothub-port'], '--iothub-port');
  if (iothubPort !== undefined) overrides.iothubPort = iothubPort;
  const iothubHttpPort = num(values['iothub-http-port'], '--iothub-http-port');
  if (iothubHttpPort !== undefined) overrides.iothubHttpPort = iothubHttpPort;
  if (values['iothub-hostname']) overrides.iothubHostName = values['iothub-hostname'];
  if (tlsPort !== undefined || iothubPort !== undefined) {
    Object.assign(overrides, { tlsCertFile: values['tls-cert'] ?? '', tlsKeyFile: values['tls-key'] ?? '', tlsCaFile: values['tls-ca'] ?? '' });
  }
  const source = values.source ?? env.AERIE_HUB_SOURCE ?? 'mqtt';
  if (source !== 'mqtt' && source !== 'eventhubs') throw new HubError('HUB_ERR_CONFIG', '--source must be mqtt or eventhubs');
  if (source === 'eventhubs') {
    // Connection strings carry keys: environment only, never argv (visible in ps).
    overrides.source = source;
    overrides.eventHubs = {
      ...defaultHubConfig.eventHubs,
      connectionString: env.AERIE_HUB_EVENTHUBS_CONNECTION_STRING ?? '',
      hubName: values['eventhubs-name'] ?? env.AERIE_HUB_EVENTHUBS_NAME ?? '',
      consumerGroup: values['eventhubs-consumer-group'] ?? env.AERIE_HUB_EVENTHUBS_CONSUMER_GROUP ?? defaultHubConfig.eventHubs.consumerGroup,
      storageConnectionString: env.AERIE_HUB_CHECKPOINT_STORAGE_CONNECTION_STRING ?? '',
      container: values['checkpoint-container'] ?? env.AERIE_HUB_CHECKPOINT_CONTAINER ?? defaultHubConfig.eventHubs.container,
    };
    // The SDK's balanced strategy claims one partition per interval; expiry stays six intervals.
    const balanceMs = num(values['eventhubs-balance-ms'], '--eventhubs-balance-ms');
    if (balanceMs !== undefined) Object.assign(overrides.eventHubs, { loadBalancingIntervalMs: balanceMs, ownershipExpiryMs: 6 * balanceMs });
  }
  const eventStream = values['event-stream'] ?? env.AERIE_HUB_EVENT_STREAM ?? 'file';
  if (eventStream !== 'file' && eventStream !== 'eventhubs') throw new HubError('HUB_ERR_CONFIG', '--event-stream must be file or eventhubs');
  if (eventStream === 'eventhubs') {
    overrides.eventStream = eventStream;
    overrides.eventStreamHub = {
      ...defaultHubConfig.eventStreamHub,
      connectionString: env.AERIE_HUB_EVENT_STREAM_CONNECTION_STRING ?? '',
      hubName: values['event-stream-hub'] ?? env.AERIE_HUB_EVENT_STREAM_HUB ?? '',
      storageConnectionString: env.AERIE_HUB_CHECKPOINT_STORAGE_CONNECTION_STRING ?? '',
    };
  }
  const port = num(values['mqtt-port'] ?? env.AERIE_HUB_MQTT_PORT, '--mqtt-port');
  if (port !== undefined) overrides.mqttPort = port;
  if (values['mqtt-host']) overrides.mqttHost = values['mqtt-host'];
  const radius = num(values['fence-radius'], '--fence-radius');
  if (radius !== undefined) overrides.fenceRadiusM = radius;
  const noFly = values['no-fly'] ?? env.AERIE_HUB_NO_FLY_FILE;
  if (noFly) overrides.noFlyZones = noFlyZonesFile(noFly);
  return { kind: 'run', config: hubConfig(overrides) };
}

type Ring = readonly (readonly [number, number])[];

/**
 * The no-fly zones the tracker alerts on, from the same GeoJSON file aerie-core plans round
 * (--no-fly): each Polygon's outer ring, each part of a MultiPolygon, named by properties.name.
 * Holes are not read: a drone inside one still alerts (the core's planner keeps out of the
 * whole zone with its margin anyway). Anything else is HUB_ERR_CONFIG at start, not a crash later.
 */
function noFlyZonesFile(path: string): { name: string; ring: Ring }[] {
  let geojson: unknown;
  try {
    geojson = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new HubError('HUB_ERR_CONFIG', `--no-fly ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const g = geojson as { type?: unknown; features?: unknown };
  const features = g?.type === 'FeatureCollection' ? g.features : geojson;
  if (!Array.isArray(features)) throw new HubError('HUB_ERR_CONFIG', `--no-fly ${path}: not a FeatureCollection or an array of Features`);
  return features.flatMap((raw: unknown, k) => {
    const f = raw as { type?: unknown; properties?: { name?: unknown } | null; geometry?: { type?: unknown; coordinates?: unknown } | null };
    const geom = f?.geometry;
    const polys = geom?.type === 'Polygon' ? [geom.coordinates] : geom?.type === 'MultiPolygon' ? geom.coordinates : null;
    if (f?.type !== 'Feature' || !Array.isArray(polys)) throw new HubError('HUB_ERR_CONFIG', `--no-fly ${path}: feature ${k} is not a Polygon or MultiPolygon Feature`);
    const name = typeof f.properties?.name === 'string' ? f.properties.name : `zone-${k}`;
    return polys.map((poly: unknown) => ({ name, ring: outerRing(poly, `--no-fly ${path}: feature ${k}`) }));
  });
}

/** A closed ring of ≥ 4 [lon, lat] positions (RFC 7946 §3.1.6), else HUB_ERR_CONFIG. */
function outerRing(poly: unknown, where: string): Ring {
  const ring = Array.isArray(poly) ? (poly[0] as unknown) : null;
  const ok = Array.isArray(ring) && ring.length >= 4 && ring.every((p: unknown) => Array.isArray(p) && p.length >= 2 && p.every((x: unknown) => typeof x === 'number' && Number.isFinite(x)));
  const pts = ok ? (ring as number[][]).map((p) => [p[0]!, p[1]!] as const) : [];
  const closed = pts.length > 0 && pts[0]![0] === pts.at(-1)![0] && pts[0]![1] === pts.at(-1)![1];
  if (!ok || !closed) throw new HubError('HUB_ERR_CONFIG', `${where}: its outer ring needs ≥ 4 [lon, lat] positions, closed (RFC 7946 §3.1.6)`);
  return pts;
}
