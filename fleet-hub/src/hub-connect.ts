import { randomBytes, randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { EmbeddedBroker, type Refusal } from './adapters/aedes-broker.js';
import { FileRetainedStore } from './adapters/retained-store.js';
import type { DeviceRegistry } from './adapters/device-registry.js';
import type { HubConfig } from './config.js';
import type { HubLogger } from './hub-counters.js';
import { hubTopics } from './hub-sharding.js';

export interface HubConnection {
  broker: EmbeddedBroker | null;
  client: MqttClient;
  /** The hub's client id, which is also its id among the hubs of a shared group. */
  hubId: string;
}

/**
 * Starts the embedded broker (when configured) and connects the hub's own MQTT client to it,
 * or to the external broker. Embedded, the hub is a service principal that exists only in this
 * process, with a fresh secret per start.
 */
export async function connectHub(config: Readonly<HubConfig>, registry: DeviceRegistry, onRefusal: (r: Refusal) => void, log: HubLogger): Promise<HubConnection> {
  let broker: EmbeddedBroker | null = null;
  let url = config.externalUrl;
  let username = config.externalUsername;
  let password = config.externalPassword;
  if (config.broker === 'embedded') {
    username = `hub-${randomUUID().slice(0, 8)}`;
    password = randomBytes(24).toString('base64url');
    broker = await EmbeddedBroker.start({
      host: config.mqttHost, port: config.mqttPort, registry, onRefusal,
      wsPort: config.wsPort,
      tls: config.tlsPort === null ? null : { port: config.tlsPort, certFile: config.tlsCertFile, keyFile: config.tlsKeyFile, caFile: config.tlsCaFile },
      limits: { maxPayloadBytes: config.maxPayloadBytes, msgPerSec: config.droneMsgPerSec, burst: config.droneBurst, maxInflightInbound: config.maxInflightInbound },
      internal: new Map([[username, { secret: password, principal: { id: username, role: 'service' } }]]),
      retained: config.retainedFile ? await FileRetainedStore.open(config.retainedFile) : null,
    });
    url = `mqtt://${config.mqttHost}:${broker.port}`;
  }
  // MQTT 5 only where shared subscriptions need it; aedes 1.x speaks 3.1.1.
  const protocolVersion = config.sharedGroup ? 5 : 4;
  const hubId = `hub-${randomUUID().slice(0, 8)}`;
  // In a shared group the hub's retained presence flag is cleared by its will if it dies, so the
  // others take its drones over (domain/sharding.ts).
  const will = config.sharedGroup ? { will: { topic: hubTopics.presence(hubId), payload: Buffer.alloc(0), qos: 1 as const, retain: true } } : {};
  // resubscribe off: after a reconnect the hub subscribes itself (app.ts), so its readiness follows the SUBACK.
  const client = mqtt.connect(url, { clientId: hubId, username, password, protocolVersion, clean: true, reconnectPeriod: 1000, resubscribe: false, ...will });
  client.on('error', (err) => log(`hub mqtt error: ${err.message}`));
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
  } catch (err) {
    client.end(true);
    await broker?.close();
    throw err;
  }
  return { broker, client, hubId };
}
