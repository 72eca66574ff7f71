#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { ApiKey, AuthConfig, JwtConfig } from './auth.js';
import type { DroneRegistration } from './config.js';
import type { ZoneFeature } from './domain/routing.js';
import { coreConfig, defaultCoreConfig } from './config.js';
import { startDeliveryCore } from './app.js';
import { DeliveryError } from './errors.js';

const USAGE = `usage: aerie-core [--http-port P] [--http-host H] [--data-dir DIR] [--api-keys FILE] [--jwt-jwks FILE] [--drones FILE] [--no-fly FILE] [--hold-ms MS] [--open-accounts] [--hub-reply-timeout-ms MS] --mqtt-url URL --mqtt-username U --mqtt-password P
environment: DATABASE_URL (PostgreSQL instead of the SQLite file in the data dir), AERIE_CORE_HTTP_PORT, AERIE_CORE_DATA_DIR, AERIE_CORE_API_KEYS_FILE, AERIE_CORE_MQTT_URL, AERIE_CORE_MQTT_USERNAME, AERIE_CORE_MQTT_PASSWORD, AERIE_CORE_MQTT_CLIENT_ID (default aerie-core; one per instance), AERIE_CORE_MQTT_SHARE_GROUP (several instances: tracking events through this shared subscription group), AERIE_CORE_INSTANCE_ID (default the host name; who holds a saga's lease), AERIE_CORE_SAGA_LEASE_MS (default ${defaultCoreConfig.workflow.sagaLeaseMs}),
  AERIE_CORE_JWT_HS256_SECRET, AERIE_CORE_JWT_JWKS_FILE, AERIE_CORE_JWT_ISSUER, AERIE_CORE_JWT_AUDIENCE, AERIE_CORE_TRACKING_SECRET, AERIE_CORE_ROLE_RATES (JSON, per-role token buckets), AERIE_CORE_DRONES_FILE,
  AERIE_CORE_TRUSTED_PROXIES (comma-separated IPs/CIDRs of the gateway, whose X-Forwarded-For/-Proto are believed; default none),
  AERIE_CORE_NO_FLY_FILE (GeoJSON no-fly zones), AERIE_CORE_HOLD_MS (how long a planned drone stays tentative and re-optimised; default ${defaultCoreConfig.scheduling.holdMs}),
  AERIE_CORE_OPEN_ACCOUNTS=1 (same as --open-accounts: owners need not be registered accounts), AERIE_CORE_HUB_REPLY_TIMEOUT_MS (default ${defaultCoreConfig.workflow.hubReplyTimeoutMs}),
  AERIE_CORE_SHUTDOWN_GRACE_MS (how long a SIGTERM's graceful shutdown may take; default ${defaultCoreConfig.shutdownGraceMs})`;

/** JWT verification when a secret or a JWKS is given; issuer and audience are checked when set. */
function jwtFrom(env: NodeJS.ProcessEnv, jwksFile: string | undefined): JwtConfig | null {
  const secret = env.AERIE_CORE_JWT_HS256_SECRET;
  if (!secret && !jwksFile) return null;
  return {
    ...(secret ? { hs256Secret: secret } : {}),
    ...(jwksFile ? { jwks: JSON.parse(readFileSync(jwksFile, 'utf8')) as JwtConfig['jwks'] } : {}),
    ...(env.AERIE_CORE_JWT_ISSUER ? { issuer: env.AERIE_CORE_JWT_ISSUER } : {}),
    ...(env.AERIE_CORE_JWT_AUDIENCE ? { audience: env.AERIE_CORE_JWT_AUDIENCE } : {}),
    clockToleranceS: 30,
  };
}

function zonesOf(geojson: unknown): ZoneFeature[] {
  const g = geojson as { type?: string; features?: unknown };
  return (g?.type === 'FeatureCollection' ? g.features : geojson) as ZoneFeature[];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'http-port': { type: 'string' }, 'http-host': { type: 'string' }, 'data-dir': { type: 'string' },
      'mqtt-url': { type: 'string' }, 'mqtt-username': { type: 'string' }, 'mqtt-password': { type: 'string' }, 'api-keys': { type: 'string' },
      'jwt-jwks': { type: 'string' }, drones: { type: 'string' }, 'no-fly': { type: 'string' }, 'hold-ms': { type: 'string' }, 'open-accounts': { type: 'boolean' },
      'hub-reply-timeout-ms': { type: 'string' },
    },
  });
  const env = process.env;
  const port = Number(values['http-port'] ?? env.AERIE_CORE_HTTP_PORT ?? 8080);
  const apiKeys = values['api-keys'] ?? env.AERIE_CORE_API_KEYS_FILE;
  const dronesFile = values.drones ?? env.AERIE_CORE_DRONES_FILE;
  const noFlyFile = values['no-fly'] ?? env.AERIE_CORE_NO_FLY_FILE;
  const dataDir = values['data-dir'] ?? env.AERIE_CORE_DATA_DIR ?? join('.aerie-data', 'core');
  const config = coreConfig({
    httpPort: port,
    httpHost: values['http-host'] ?? '127.0.0.1',
    trustedProxies: (env.AERIE_CORE_TRUSTED_PROXIES ?? '').split(',').map((p) => p.trim()).filter((p) => p !== ''),
    dbPath: join(dataDir, 'deliveries.sqlite'),
    // Per instance, with PostgreSQL too: the requests this instance accepted and has not yet drained.
    ingest: { dir: join(dataDir, 'ingest') },
    databaseUrl: env.DATABASE_URL || null,
    // A JSON array of { key, clientId, role, account?, rate?: { ratePerSec, burst } }; without it the API is open (local runs).
    auth: {
      ...(apiKeys ? { keys: JSON.parse(readFileSync(apiKeys, 'utf8')) as ApiKey[] } : {}),
      // Per role, e.g. {"business":{"ratePerSec":200,"burst":400}}; a key's own rate comes first.
      ...(env.AERIE_CORE_ROLE_RATES ? { roleRates: JSON.parse(env.AERIE_CORE_ROLE_RATES) as AuthConfig['roleRates'] } : {}),
      jwt: jwtFrom(env, values['jwt-jwks'] ?? env.AERIE_CORE_JWT_JWKS_FILE),
      // Without it each start makes a new one, and the tracking links given before stop working.
      trackingSecret: env.AERIE_CORE_TRACKING_SECRET ?? '',
    },
    // A GeoJSON FeatureCollection (or array of Features) of Polygon/MultiPolygon no-fly zones. The
    // service re-optimises a planned pair for a couple of scheduler passes (holdMs, config.ts) before committing it.
    scheduling: {
      ...(noFlyFile ? { noFlyZones: zonesOf(JSON.parse(readFileSync(noFlyFile, 'utf8'))) } : {}),
      ...(values['hold-ms'] ?? env.AERIE_CORE_HOLD_MS ? { holdMs: Number(values['hold-ms'] ?? env.AERIE_CORE_HOLD_MS) } : {}),
    },
    // The saga: --open-accounts lets owners nobody registered through (a key or JWT names an account);
    // the hub's answer to a dispatched mission is awaited this long before the assignment is re-sent.
    workflow: {
      ...(values['open-accounts'] || env.AERIE_CORE_OPEN_ACCOUNTS === '1' ? { requireRegisteredAccount: false } : {}),
      ...(values['hub-reply-timeout-ms'] ?? env.AERIE_CORE_HUB_REPLY_TIMEOUT_MS ? { hubReplyTimeoutMs: Number(values['hub-reply-timeout-ms'] ?? env.AERIE_CORE_HUB_REPLY_TIMEOUT_MS) } : {}),
      // Several instances on one PostgreSQL: who drives a saga (its lease). The pod's name in the StatefulSet.
      instanceId: env.AERIE_CORE_INSTANCE_ID || hostname(),
      ...(env.AERIE_CORE_SAGA_LEASE_MS ? { sagaLeaseMs: Number(env.AERIE_CORE_SAGA_LEASE_MS) } : {}),
    },
    ...(env.AERIE_CORE_SHUTDOWN_GRACE_MS ? { shutdownGraceMs: Number(env.AERIE_CORE_SHUTDOWN_GRACE_MS) } : {}),
    // A JSON array of { id, airframe, maxPayloadKg, maxRangeM, home: { lat, lon } }.
    ...(dronesFile ? { drones: JSON.parse(readFileSync(dronesFile, 'utf8')) as DroneRegistration[] } : {}),
    mqtt: {
      url: values['mqtt-url'] ?? env.AERIE_CORE_MQTT_URL ?? 'mqtt://127.0.0.1:1883',
      username: values['mqtt-username'] ?? env.AERIE_CORE_MQTT_USERNAME ?? '',
      password: values['mqtt-password'] ?? env.AERIE_CORE_MQTT_PASSWORD ?? '',
      // Its persistent session at the broker (and `<id>-outbox`): one per instance, or a second
      // instance takes the first one's session over.
      ...(env.AERIE_CORE_MQTT_CLIENT_ID ? { clientId: env.AERIE_CORE_MQTT_CLIENT_ID } : {}),
      // Several instances: each tracking event to one of them (a Mosquitto shared subscription).
      ...(env.AERIE_CORE_MQTT_SHARE_GROUP ? { trackingShareGroup: env.AERIE_CORE_MQTT_SHARE_GROUP } : {}),
    },
  });
  const core = await startDeliveryCore(config);
  core.service.onStageChange((d, c) => console.log(`delivery ${d.id} ${c.stage}${d.droneId ? ` drone=${d.droneId}` : ''}${d.eta ? ` eta=${new Date(d.eta).toISOString()}` : ''}`));
  console.log(`aerie-core: REST API on ${core.url}/api/v1, deliveries in ${config.databaseUrl ? 'PostgreSQL' : config.dbPath}`);
  // SIGTERM (Kubernetes, the launcher) and SIGINT: the graceful shutdown (app.ts), then exit 0;
  // a second signal exits at once (everything accepted is in the ingestion log already).
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      console.log(`aerie-core: ${signal} again: exiting now`);
      process.exit(130);
    }
    stopping = true;
    console.log(`aerie-core: ${signal}: shutting down (grace ${config.shutdownGraceMs} ms)`);
    // Each step is bounded by the grace (app.ts); this bounds the rest (closing files and sockets).
    setTimeout(() => {
      console.error('aerie-core: shutdown overran its grace; exiting');
      process.exit(1);
    }, config.shutdownGraceMs + 5000).unref();
    core.shutdown().then((r) => {
      console.log(`aerie-core: stopped (${r.drained} drained, ${r.handedBack} left in the ingestion log${r.late.length ? `; cut short: ${r.late.join(', ')}` : ''})`);
      process.exit(0);
    }, (err: unknown) => {
      console.error('aerie-core: shutdown failed:', err);
      process.exit(1);
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  if (err instanceof DeliveryError && err.code === 'DLV_ERR_CONFIG') {
    console.error(`aerie-core: ${err.message}\n${USAGE}`);
    process.exit(2);
  }
  console.error(err);
  process.exit(1);
});
