import { HubError } from './errors.js';

export interface HubConfig {
  /** 'embedded' runs aedes in-process; 'external' attaches to another broker (Mosquitto, EMQX). */
  broker: 'embedded' | 'external';
  /** Embedded broker listen address (port 0 = ephemeral). */
  mqttHost: string;
  mqttPort: number;
  /** External broker URL and the hub's credentials there. */
  externalUrl: string;
  externalUsername: string;
  externalPassword: string;
  /** Device registry file lives here (devices.json). */
  dataDir: string;
  /** Radius of the pickup and dropoff geofences (m). */
  fenceRadiusM: number;
  /** No-fly zones the tracker alerts on: rings of [lon, lat], first point repeated last. */
  noFlyZones: readonly { name: string; ring: readonly (readonly [number, number])[] }[];
  /** A `fly` assignment whose drone is not heard of for this long is refused to the core as drone_offline (ms). */
  dispatchOfflineLimitMs: number;
  /** Cap on an accepted MQTT payload (bytes); a bigger PUBLISH from a drone is refused at the broker. */
  maxPayloadBytes: number;
  /** Per drone connection: sustained PUBLISH rate (msg/s) and burst (messages); the excess is refused and counted. */
  droneMsgPerSec: number;
  droneBurst: number;
  /** Per connection: inbound QoS 2 messages awaiting PUBREL (aedes maxInflightInbound). */
  maxInflightInbound: number;
  /** Intake queue bounds (domain/ingest-queue.ts): statuses before shedding starts, drones, events. */
  maxPendingStatuses: number;
  maxPendingDrones: number;
  maxPendingEvents: number;
  /** Shortest slice the pipeline runs before yielding to socket I/O (ms). */
  ingestSliceMs: number;
  /**
   * External broker only: share the fleet's traffic with the other hubs of this group through an
   * MQTT 5 shared subscription ($share/{group}/…, MQTT 5.0 §4.8.2). '' = one hub takes everything.
   */
  sharedGroup: string;
  /** Embedded broker's mqtts listener (0 = ephemeral, null = off), its certificate and the CA that signs drone certificates. */
  tlsPort: number | null;
  tlsCertFile: string;
  tlsKeyFile: string;
  tlsCaFile: string;
  /** Embedded broker's MQTT-over-WebSocket listener (0 = ephemeral, null = off). */
  wsPort: number | null;
  /** IoT Hub-compatible device endpoint, mqtts (adapters/iothub-endpoint.ts): 0 = ephemeral, null = off. Uses tlsCertFile, tlsKeyFile, tlsCaFile. */
  iothubPort: number | null;
  /** Host name the devices' SAS tokens must name (their connection string's HostName); '' accepts the one each device names. */
  iothubHostName: string;
  /** The endpoint's service API (twins, direct methods; HTTP Basic as a service principal): 0 = ephemeral, null = off. */
  iothubHttpPort: number | null;
  /**
   * Where the IoT Hub endpoint keeps device twins, cloud-to-device queues and the devices it has
   * seen across restarts (adapters/iothub-store.ts); '' = memory only. `aerie-hub` uses DATA_DIR/iothub.
   */
  iothubStateDir: string;
  /** A cloud-to-device message's time to live (ms; IoT Hub's default 1 h) and how many wait per device (IoT Hub: 50). */
  iothubC2dTtlMs: number;
  iothubMaxQueuedC2D: number;
  /** Prometheus /metrics, and the /livez and /readyz probes, listen port (0 = ephemeral); null = no metrics server. */
  metricsPort: number | null;
  /**
   * SIGTERM: how long `aerie-hub` may take to hand the fleet over and finish what it holds before
   * it gives up and exits 1 (ms); below Kubernetes' 30 s terminationGracePeriodSeconds.
   */
  shutdownGraceMs: number;
  /** A JSON line per accepted status (droneId, bootId, seq, ts) appended here, fsynced at close; '' = none. */
  statusJournal: string;
  /**
   * Embedded broker: file keeping the retained svc/ messages (assignments) across restarts
   * (adapters/retained-store.ts); '' = memory only, aedes' default. `aerie-hub` uses DATA_DIR/retained.json.
   */
  retainedFile: string;
  /**
   * Where the fleet's messages come from besides the broker: 'mqtt' only, or also 'eventhubs' —
   * IoT Hub's built-in Event Hubs-compatible endpoint (cloud mode, adapters/eventhubs-source.ts).
   */
  source: 'mqtt' | 'eventhubs';
  eventHubs: Readonly<EventHubsConfig>;
  /** Where `aerie-hub` appends tracking events: the embedded durable log in DATA_DIR/events, or an event hub. */
  eventStream: 'file' | 'eventhubs';
  eventStreamHub: Readonly<EventStreamHubConfig>;
}

/** The event hub tracking events go to (partition key = deliveryId) and where stream consumers keep their positions. */
export interface EventStreamHubConfig {
  connectionString: string;
  hubName: string;
  /** The consumer group stream readers go through. */
  consumerGroup: string;
  storageConnectionString: string;
  container: string;
}

/** Cloud mode: the Event Hubs-compatible endpoint and the blob container holding checkpoints and partition ownership. */
export interface EventHubsConfig {
  /** Event Hubs-compatible connection string (IoT Hub → Built-in endpoints); UseDevelopmentEmulator=true means plain AMQP on loopback. */
  connectionString: string;
  /** Event Hubs-compatible name (the hub's entity path). */
  hubName: string;
  /** Hubs sharing one consumer group and one checkpoint container share the partitions. */
  consumerGroup: string;
  /** Azure Storage connection string and container for checkpoints (BlobCheckpointStore). */
  storageConnectionString: string;
  container: string;
  /** Events per processEvents call, and the longest wait for a batch to fill (s). */
  maxBatchSize: number;
  maxWaitTimeS: number;
  /** Load-balancing loop period and how long an unrenewed partition claim lasts (ms; SDK defaults 10 s and 60 s). */
  loadBalancingIntervalMs: number;
  ownershipExpiryMs: number;
}

export const defaultHubConfig: Readonly<HubConfig> = Object.freeze({
  broker: 'embedded',
  mqttHost: '127.0.0.1',
  mqttPort: 1883,
  externalUrl: '',
  externalUsername: '',
  externalPassword: '',
  source: 'mqtt',
  eventHubs: Object.freeze({
    connectionString: '', hubName: '', consumerGroup: '$default', storageConnectionString: '', container: 'aerie-hub-checkpoints',
    maxBatchSize: 100, maxWaitTimeS: 1, loadBalancingIntervalMs: 10_000, ownershipExpiryMs: 60_000,
  }),
  eventStream: 'file',
  eventStreamHub: Object.freeze({ connectionString: '', hubName: '', consumerGroup: '$default', storageConnectionString: '', container: 'aerie-hub-stream' }),
  dataDir: '.aerie-data/hub',
  fenceRadiusM: 15,
  noFlyZones: [],
  dispatchOfflineLimitMs: 60_000,
  maxPayloadBytes: 64 * 1024,
  // A status at 1–5 Hz plus events; the demo's warped clock runs agents faster, hence the head-room.
  droneMsgPerSec: 500,
  droneBurst: 1_000,
  maxInflightInbound: 100,
  // About a tenth of a second of work at the pipeline's capacity on 2 cores: the latency bound under overload.
  maxPendingStatuses: 2_000,
  maxPendingDrones: 100_000,
  maxPendingEvents: 10_000,
  ingestSliceMs: 10,
  sharedGroup: '',
  metricsPort: null,
  shutdownGraceMs: 20_000,
  statusJournal: '',
  tlsPort: null,
  tlsCertFile: '',
  tlsKeyFile: '',
  tlsCaFile: '',
  wsPort: null,
  iothubPort: null,
  iothubHostName: '',
  iothubHttpPort: null,
  iothubStateDir: '',
  iothubC2dTtlMs: 3_600_000,
  iothubMaxQueuedC2D: 50,
  retainedFile: '',
});

type HubOverrides = Partial<Omit<HubConfig, 'eventHubs' | 'eventStreamHub'>> & { eventHubs?: Partial<EventHubsConfig>; eventStreamHub?: Partial<EventStreamHubConfig> };

export function hubConfig(overrides: HubOverrides = {}): Readonly<HubConfig> {
  const cfg: HubConfig = {
    ...defaultHubConfig, ...overrides,
    eventHubs: Object.freeze({ ...defaultHubConfig.eventHubs, ...overrides.eventHubs }),
    eventStreamHub: Object.freeze({ ...defaultHubConfig.eventStreamHub, ...overrides.eventStreamHub }),
  };
  if (cfg.broker === 'external' && !cfg.externalUrl) throw new HubError('HUB_ERR_CONFIG', 'external broker needs externalUrl');
  if (!(cfg.fenceRadiusM > 0)) throw new HubError('HUB_ERR_CONFIG', 'fenceRadiusM must be > 0');
  if (!Number.isInteger(cfg.mqttPort) || cfg.mqttPort < 0 || cfg.mqttPort > 65535) throw new HubError('HUB_ERR_CONFIG', 'mqttPort must be 0–65535');
  if (cfg.sharedGroup && (cfg.broker !== 'external' || !/^[A-Za-z0-9_-]{1,64}$/.test(cfg.sharedGroup))) {
    throw new HubError('HUB_ERR_CONFIG', 'sharedGroup needs an external broker and a name of letters, digits, _ and -');
  }
  if (cfg.tlsPort !== null && !(cfg.tlsCertFile && cfg.tlsKeyFile && cfg.tlsCaFile)) {
    throw new HubError('HUB_ERR_CONFIG', 'tlsPort needs tlsCertFile, tlsKeyFile and tlsCaFile');
  }
  if (cfg.iothubPort !== null && !(cfg.tlsCertFile && cfg.tlsKeyFile && cfg.tlsCaFile)) {
    throw new HubError('HUB_ERR_CONFIG', 'iothubPort needs tlsCertFile, tlsKeyFile and tlsCaFile (IoT Hub devices speak mqtts only)');
  }
  if (cfg.iothubHttpPort !== null && cfg.iothubPort === null) throw new HubError('HUB_ERR_CONFIG', 'iothubHttpPort needs iothubPort');
  if (cfg.source === 'eventhubs') {
    const e = cfg.eventHubs;
    if (!(e.connectionString && e.hubName && e.consumerGroup && e.storageConnectionString && e.container)) {
      throw new HubError('HUB_ERR_CONFIG', 'source eventhubs needs eventHubs.connectionString, hubName, consumerGroup, storageConnectionString and container');
    }
    if (!(e.maxBatchSize > 0 && e.maxWaitTimeS > 0 && e.loadBalancingIntervalMs > 0 && e.ownershipExpiryMs > e.loadBalancingIntervalMs)) {
      throw new HubError('HUB_ERR_CONFIG', 'eventHubs batch, wait and load-balancing settings must be > 0, ownership expiry above the interval');
    }
  }
  if (cfg.eventStream === 'eventhubs' && !Object.values(cfg.eventStreamHub).every(Boolean)) {
    throw new HubError('HUB_ERR_CONFIG', 'eventStream eventhubs needs eventStreamHub.connectionString, hubName, consumerGroup, storageConnectionString and container');
  }
  for (const k of ['maxPayloadBytes', 'droneMsgPerSec', 'droneBurst', 'maxInflightInbound', 'maxPendingStatuses', 'maxPendingEvents', 'maxPendingDrones', 'ingestSliceMs', 'iothubC2dTtlMs', 'iothubMaxQueuedC2D', 'shutdownGraceMs'] as const) {
    if (!(cfg[k] > 0)) throw new HubError('HUB_ERR_CONFIG', `${k} must be > 0`);
  }
  return Object.freeze(cfg);
}
