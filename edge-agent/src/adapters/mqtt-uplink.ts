import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import { encodeMessage, topics, type CommandResult, type DroneEvent, type DroneStatus } from '@aerie/contracts';
import type { Uplink, UplinkKind } from '../ports.js';
import type { AgentConfig } from '../config.js';

/** How long close() waits for the broker's last acknowledgements (ms). */
const CLOSE_WAIT_MS = 2_000;

/**
 * MQTT 3.1.1 uplink (aedes and Mosquitto both speak it). The retained `online` flag is `true`
 * on connect and the broker publishes the last will `false` when the session dies.
 * QoS 1 messages published while disconnected wait in mqtt.js's outgoing store.
 */
export class MqttUplink implements Uplink {
  private readonly commandListeners: ((payload: Buffer) => void)[] = [];

  private constructor(private readonly client: MqttClient, private readonly droneId: string) {
    client.on('connect', () => {
      client.publish(topics.online(droneId), 'true', { qos: 1, retain: true });
      client.subscribe(topics.command(droneId), { qos: 1 });
    });
    client.on('message', (topic, payload) => {
      if (topic === topics.command(droneId)) for (const l of this.commandListeners) l(payload);
    });
    // Connection errors (refused credentials, broker down) are reported by reconnect attempts, not thrown.
    client.on('error', () => undefined);
  }

  /** Connects and waits for the first CONNACK; rejects with the broker's refusal. */
  static connect(droneId: string, cfg: Pick<AgentConfig['mqtt'], 'url' | 'username' | 'password'> & Partial<AgentConfig['mqtt']>): Promise<MqttUplink> {
    const client = mqtt.connect(cfg.url, {
      // mqtts://: the broker's certificate must chain to `ca` (or the system roots) and match the host name.
      ...(cfg.ca ? { ca: readFileSync(cfg.ca) } : {}),
      ...(cfg.cert && cfg.key ? { cert: readFileSync(cfg.cert), key: readFileSync(cfg.key) } : {}),
      rejectUnauthorized: true,
      clientId: droneId,
      username: cfg.username || undefined,
      password: cfg.password || undefined,
      protocolVersion: 4,
      clean: false,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      will: { topic: topics.online(droneId), payload: Buffer.from('false'), qos: 1, retain: true },
    });
    const uplink = new MqttUplink(client, droneId);
    return new Promise((resolve, reject) => {
      const onConnect = () => {
        client.off('error', onError);
        resolve(uplink);
      };
      const onError = (err: Error) => {
        client.off('connect', onConnect);
        client.end(true);
        reject(err);
      };
      client.once('connect', onConnect);
      client.once('error', onError);
    });
  }

  get connected(): boolean {
    return this.client.connected;
  }

  publishConfirmed(kind: UplinkKind, body: Buffer): Promise<boolean> {
    const topic = kind === 'status' ? topics.status(this.droneId) : kind === 'event' ? topics.events(this.droneId) : topics.commandResult(this.droneId);
    // The callback fires on PUBACK for QoS 1 [MQTT-4.3.2]; an error means the client gave up on it.
    return new Promise((resolve) => this.client.publish(topic, body, { qos: 1 }, (err) => resolve(!err)));
  }

  onConnectionChange(listener: (connected: boolean) => void): void {
    this.client.on('connect', () => listener(true));
    this.client.on('close', () => listener(false));
  }

  publishStatus(status: DroneStatus): void {
    this.client.publish(topics.status(this.droneId), encodeMessage(status), { qos: 1 });
  }

  publishEvent(event: DroneEvent): void {
    this.client.publish(topics.events(this.droneId), encodeMessage(event), { qos: 1 });
  }

  publishResult(result: CommandResult): void {
    this.client.publish(topics.commandResult(this.droneId), encodeMessage(result), { qos: 1 });
  }

  onCommand(listener: (payload: Buffer) => void): void {
    this.commandListeners.push(listener);
  }

  /**
   * Publishes `online=false` before a clean disconnect: a clean DISCONNECT suppresses the will
   * [MQTT-3.14.4-3]. mqtt.js's end() waits for every PUBACK outstanding, forever while the
   * broker is unreachable; so with publishes still unacknowledged after a short wait (the
   * spooling uplink has put them in its spool) the connection is dropped instead — the broker
   * then publishes the will, `false` as well.
   */
  async close(): Promise<void> {
    const deadline = Date.now() + CLOSE_WAIT_MS;
    if (this.client.connected) {
      await Promise.race([
        new Promise<void>((resolve) => this.client.publish(topics.online(this.droneId), 'false', { qos: 1, retain: true }, () => resolve())),
        new Promise((r) => setTimeout(r, CLOSE_WAIT_MS)),
      ]);
    }
    const pending = () => Object.keys(this.client.outgoing).length > 0;
    while (this.client.connected && pending() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await this.client.endAsync(pending());
  }
}
