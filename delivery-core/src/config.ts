import { isTrustedProxyEntry } from '@aerie/contracts';
import { DeliveryError } from './errors.js';
import type { FlightProfile } from './domain/eta.js';
import type { AssignmentPolicy } from './domain/assignment.js';
import type { EnergyModel } from './domain/planner.js';
import type { ZoneFeature } from './domain/routing.js';
import type { AuthConfig } from './auth.js';
import { defaultIngestionOptions, type IngestionOptions } from './ingestion.js';
import { defaultWorkflowOptions, type WorkflowOptions } from './workflow/options.js';

/** What the planner assumes of every drone until the registry says otherwise. */
export interface Airframe {
  maxPayloadKg: number;
  maxRangeM: number;
  /** Weight assumed for a package whose request does not say (kg). */
  defaultPackageKg: number;
}

/** One drone of the registry (GET /api/v1/drones); drones not listed fly with `airframe`'s limits. */
export interface DroneRegistration {
  id: string;
  /** Model name, e.g. "quad-x 2 kg". */
  airframe: string;
  maxPayloadKg: number;
  maxRangeM: number;
  home: { lat: number; lon: number };
}

/** The scheduler beyond the flight model (issue 7): no-fly zones and re-optimisation. */
export interface SchedulingConfig {
  /** GeoJSON Polygon/MultiPolygon features, [lon, lat]; legs are routed round them, a pair with no way round is infeasible. */
  noFlyZones: readonly ZoneFeature[];
  /** Distance kept from every zone (m); a pickup or dropoff closer than this is not served. */
  noFlyMarginM: number;
  /**
   * How long a planned pair stays tentative and is re-optimised each pass before the drone is
   * committed (ms; 2000 by default, the one default of the service and the aerie-core command);
   * 0 commits on the first pass. What another drone must save to take over a tentative pair (s):
   * the hysteresis that keeps near-equal drones from flapping. A pair whose pickup window opens
   * later stays tentative past holdMs, until the drone has to leave (domain/scheduler.ts).
   */
  holdMs: number;
  switchPenaltyS: number;
}

export interface CoreConfig {
  httpHost: string;
  /** 0 = ephemeral. */
  httpPort: number;
  /**
   * Peers (IPs, CIDRs) whose X-Forwarded-For / X-Forwarded-Proto are believed: the gateway
   * (deploy/nginx). Behind it the client's address keys the tracking page's rate limit; from any
   * other peer the headers are ignored. Empty (the default): trust none. AERIE_CORE_TRUSTED_PROXIES.
   */
  trustedProxies: readonly string[];
  /** SQLite file, the embedded default; ':memory:' for throwaway runs. Unused with `databaseUrl`. */
  dbPath: string;
  /** PostgreSQL instead of SQLite (postgres://user@host:port/db, from DATABASE_URL); null: SQLite at `dbPath`. */
  databaseUrl: string | null;
  /**
   * `trackingShareGroup`: the MQTT shared-subscription group several instances take tracking
   * events through, each event to one of them (Mosquitto; adapters/mqtt-fleet-link.ts); '' for
   * one instance or a broker without shared subscriptions. AERIE_CORE_MQTT_SHARE_GROUP.
   */
  mqtt: { url: string; username: string; password: string; clientId: string; trackingShareGroup: string };
  /** How often the scheduler looks at requested deliveries (ms). */
  scheduleEveryMs: number;
  /** The fleet's flight profile, for ETAs and the missions the hub builds. */
  profile: FlightProfile;
  assignment: AssignmentPolicy;
  /** Most Requested deliveries the scheduler plans (and commits, in one transaction) per pass. */
  scheduleBatchMax: number;
  airframe: Airframe;
  energy: EnergyModel;
  scheduling: SchedulingConfig;
  auth: AuthConfig;
  drones: readonly DroneRegistration[];
  /**
   * The durable ingestion queue (issue 7): `dir` holds its log segments (one queue per
   * instance, also with PostgreSQL); null: creates are group-committed into the table directly.
   * `segmentBytes`: the size of each log segment file (zero-filled ahead of use). The drainer's
   * pace: IngestionOptions.
   */
  ingest: IngestionOptions & { dir: string | null; segmentBytes: number };
  /**
   * The saga's settings (workflow/options.ts: retries, breakers, the hub's answer timeout,
   * whether an owner must be a registered account, …); the service's defaults where not given.
   */
  workflow: WorkflowOptions;
  /**
   * SIGTERM (issue 8): how long the graceful shutdown may take (ms) — requests in flight
   * answered, the ingestion log drained into the table, in-flight saga steps finished — before
   * the rest is left to the next start (all of it resumes). Below Kubernetes' 30 s
   * terminationGracePeriodSeconds. AERIE_CORE_SHUTDOWN_GRACE_MS.
   */
  shutdownGraceMs: number;
}

export const defaultCoreConfig: Readonly<CoreConfig> = Object.freeze({
  httpHost: '127.0.0.1',
  httpPort: 8080,
  trustedProxies: [],
  dbPath: '.aerie-data/core/deliveries.sqlite',
  databaseUrl: null,
  mqtt: { url: 'mqtt://127.0.0.1:1883', username: '', password: '', clientId: 'aerie-core', trackingShareGroup: '' },
  scheduleEveryMs: 500,
  // Matches the simulator's default multicopter: 12 m/s cruise, 3 m/s climb, 1.5 m/s descent.
  profile: { cruiseSpeedMs: 12, climbRateMs: 3, descentRateMs: 1.5, cruiseAltM: 30, groundDelayS: 5 },
  assignment: { minBatteryPct: 30, maxStatusAgeMs: 10_000 },
  scheduleBatchMax: 200,
  // A 2 kg-class quadcopter: ~450 W hover/cruise empty, ~90 W per kg carried, 250 Wh pack, 20 % never planned.
  airframe: { maxPayloadKg: 2.5, maxRangeM: 20_000, defaultPackageKg: 1 },
  energy: { basePowerW: 450, perKgPowerW: 90, reserveFraction: 0.2, capacityWh: 250 },
  // holdMs: a few scheduler passes (scheduleEveryMs) of re-optimisation before a drone is committed (issue 7).
  scheduling: { noFlyZones: [], noFlyMarginM: 50, holdMs: 2000, switchPenaltyS: 20 },
  auth: { keys: [], jwt: null, ratePerSec: 50, burst: 100, trackingSecret: '' },
  drones: [],
  ingest: { ...defaultIngestionOptions, dir: null, segmentBytes: 16 * 1024 * 1024 },
  workflow: defaultWorkflowOptions,
  shutdownGraceMs: 20_000,
});

type Overrides = Partial<Omit<CoreConfig, 'mqtt' | 'profile' | 'assignment' | 'airframe' | 'energy' | 'auth' | 'scheduling' | 'ingest' | 'workflow'>> & {
  workflow?: Partial<WorkflowOptions>;
  scheduling?: Partial<SchedulingConfig>;
  ingest?: Partial<CoreConfig['ingest']>;
  auth?: Partial<AuthConfig>;
  mqtt?: Partial<CoreConfig['mqtt']>; profile?: Partial<FlightProfile>; assignment?: Partial<AssignmentPolicy>;
  airframe?: Partial<Airframe>; energy?: Partial<EnergyModel>;
};

export function coreConfig(o: Overrides = {}): Readonly<CoreConfig> {
  const cfg: CoreConfig = {
    ...defaultCoreConfig, ...o,
    mqtt: { ...defaultCoreConfig.mqtt, ...o.mqtt },
    profile: { ...defaultCoreConfig.profile, ...o.profile },
    assignment: { ...defaultCoreConfig.assignment, ...o.assignment },
    airframe: { ...defaultCoreConfig.airframe, ...o.airframe },
    energy: { ...defaultCoreConfig.energy, ...o.energy },
    scheduling: { ...defaultCoreConfig.scheduling, ...o.scheduling },
    auth: { ...defaultCoreConfig.auth, ...o.auth },
    // A PostgreSQL table may be shared by several instances; a SQLite file has one process.
    ingest: { ...defaultCoreConfig.ingest, sharedTable: (o.databaseUrl ?? null) !== null, ...o.ingest },
    workflow: { ...defaultCoreConfig.workflow, ...o.workflow },
  };
  const q = cfg.ingest;
  if (![q.drainBatchMax, q.tableBacklogMax, q.drainEveryMs, q.segmentBytes, q.busyDrainPerSec].every((x) => Number.isInteger(x) && x > 0) || !(q.busyUtilization > 0 && q.busyUtilization <= 1) || !(Number.isInteger(q.busyHoldMs) && q.busyHoldMs >= 0)) {
    throw new DeliveryError('DLV_ERR_CONFIG', 500, 'ingest.drainBatchMax, tableBacklogMax, drainEveryMs, segmentBytes and busyDrainPerSec must be positive integers, busyHoldMs a whole number ≥ 0, busyUtilization within (0, 1]');
  }
  const w = cfg.workflow;
  if (![w.hubReplyTimeoutMs, w.hubReplyAttempts, w.waitForDroneMs, w.superviseEveryMs, w.relayEveryMs, w.relayBatch].every((x) => Number.isInteger(x) && x > 0)) {
    throw new DeliveryError('DLV_ERR_CONFIG', 500, 'workflow.hubReplyTimeoutMs, hubReplyAttempts, waitForDroneMs, superviseEveryMs, relayEveryMs and relayBatch must be positive integers');
  }
  if (!/^[A-Za-z0-9_.-]*$/.test(cfg.mqtt.trackingShareGroup)) throw new DeliveryError('DLV_ERR_CONFIG', 500, 'mqtt.trackingShareGroup must be letters, digits, _ . - (no / + #)');
  if (!(Number.isInteger(w.sagaLeaseMs) && w.sagaLeaseMs >= 1000) || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(w.instanceId)) {
    throw new DeliveryError('DLV_ERR_CONFIG', 500, 'workflow.sagaLeaseMs must be an integer ≥ 1000 (ms) and workflow.instanceId a name of letters, digits, _ . - (AERIE_CORE_INSTANCE_ID)');
  }
  if (!(cfg.auth.ratePerSec > 0 && cfg.auth.burst >= 1)) throw new DeliveryError('DLV_ERR_CONFIG', 500, 'auth.ratePerSec must be > 0 and auth.burst ≥ 1');
  const proxy = cfg.trustedProxies.find((x) => !isTrustedProxyEntry(x));
  if (proxy !== undefined) throw new DeliveryError('DLV_ERR_CONFIG', 500, `trustedProxies: ${JSON.stringify(proxy)} is not an IP address or CIDR`);
  if (!(cfg.energy.reserveFraction >= 0 && cfg.energy.reserveFraction < 1)) throw new DeliveryError('DLV_ERR_CONFIG', 500, 'energy.reserveFraction must be within [0, 1)');
  if (!(Number.isInteger(cfg.scheduleBatchMax) && cfg.scheduleBatchMax > 0)) throw new DeliveryError('DLV_ERR_CONFIG', 500, 'scheduleBatchMax must be a positive integer');
  const p = cfg.profile;
  if (!(p.cruiseSpeedMs > 0 && p.climbRateMs > 0 && p.descentRateMs > 0)) throw new DeliveryError('DLV_ERR_CONFIG', 500, 'profile speeds must be > 0');
  if (!(p.cruiseAltM >= 5 && p.cruiseAltM <= 120)) throw new DeliveryError('DLV_ERR_CONFIG', 500, 'cruiseAltM must be within 5–120 m');
  validateRegistry(cfg.drones);
  validateScheduling(cfg.scheduling);
  if (!(Number.isInteger(cfg.shutdownGraceMs) && cfg.shutdownGraceMs > 0)) throw new DeliveryError('DLV_ERR_CONFIG', 500, 'shutdownGraceMs must be a positive integer (ms)');
  if (!Number.isInteger(cfg.httpPort) || cfg.httpPort < 0 || cfg.httpPort > 65535) throw new DeliveryError('DLV_ERR_CONFIG', 500, 'httpPort must be 0–65535');
  return Object.freeze(cfg);
}

function validateRegistry(drones: readonly DroneRegistration[]): void {
  const seen = new Set<string>();
  for (const d of drones) {
    const bad = (why: string) => new DeliveryError('DLV_ERR_CONFIG', 500, `drone registry: ${String(d?.id)}: ${why}`);
    if (typeof d?.id !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(d.id)) throw bad('id must match the API id pattern');
    if (seen.has(d.id)) throw bad('listed twice');
    seen.add(d.id);
    if (typeof d.airframe !== 'string' || d.airframe.length === 0) throw bad('airframe name missing');
    if (!(d.maxPayloadKg > 0 && d.maxRangeM > 0)) throw bad('maxPayloadKg and maxRangeM must be > 0');
    if (!(Math.abs(d.home?.lat) <= 90 && Math.abs(d.home?.lon) <= 180)) throw bad('home must be { lat, lon }');
  }
}

function validateScheduling(s: SchedulingConfig): void {
  const bad = (why: string) => new DeliveryError('DLV_ERR_CONFIG', 500, `scheduling: ${why}`);
  if (!(s.noFlyMarginM >= 0 && s.holdMs >= 0 && s.switchPenaltyS >= 0)) throw bad('noFlyMarginM, holdMs and switchPenaltyS must be ≥ 0');
  if (!Array.isArray(s.noFlyZones)) throw bad('noFlyZones must be an array of GeoJSON features');
  (s.noFlyZones as readonly unknown[]).forEach((raw, k) => {
    const z = raw as Partial<ZoneFeature> | null;
    const g = z?.geometry;
    const polys = g?.type === 'Polygon' ? [g.coordinates] : g?.type === 'MultiPolygon' ? g.coordinates : null;
    if (z?.type !== 'Feature' || !polys) throw bad(`noFlyZones[${k}] must be a GeoJSON Feature with a Polygon or MultiPolygon geometry`);
    for (const ring of polys.flat()) {
      const ok = Array.isArray(ring) && ring.length >= 4 && ring.every((p) => Math.abs(p[0]!) <= 180 && Math.abs(p[1]!) <= 90)
        && ring[0]![0] === ring.at(-1)![0] && ring[0]![1] === ring.at(-1)![1];
      if (!ok) throw bad(`noFlyZones[${k}]: each ring needs ≥ 4 [lon, lat] positions, closed (RFC 7946 §3.1.6)`);
    }
  });
}
