import mqtt, { type MqttClient } from 'mqtt';
import { SVC_PREFIX } from '@aerie/contracts';
import type { EventPublisher, OutboxEvent } from '../domain/outbox.js';
import { TransientError } from '../domain/saga-errors.js';

/** Where the outbox's events go on the bus: one topic per delivery, below the services' prefix. */
export const notificationTopic = (aggregateId: string) => `${SVC_PREFIX}/notifications/${aggregateId}`;
export const allNotifications = `${SVC_PREFIX}/notifications/+`;

/** The message on the bus: the event with its stable id, which consumers dedupe on. */
export interface NotificationMessage {
  v: 1;
  eventId: string;
  type: string;
  aggregateId: string;
  ts: number;
  payload: OutboxEvent['payload'];
}

export interface MqttOutboxOptions {
  url: string;
  username: string;
  password: string;
  clientId: string;
}

/**
 * The outbox relay's publisher on MQTT: QoS 1, and the promise resolves on the broker's PUBACK
 * [MQTT-4.3.2], so an event is marked sent only once the broker has it. A publish that fails
 * (no connection) is transient; the relay tries again on its next pass. Duplicates after a
 * crash between PUBACK and mark-sent carry the same eventId.
 */
export class MqttOutboxPublisher implements EventPublisher {
  private constructor(private readonly client: MqttClient) {}

  static async connect(o: MqttOutboxOptions): Promise<MqttOutboxPublisher> {
    const client = mqtt.connect(o.url, {
      clientId: o.clientId, username: o.username || undefined, password: o.password || undefined, protocolVersion: 4, reconnectPeriod: 1000,
    });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', (err) => {
        client.end(true);
        reject(err);
      });
    });
    // Later errors surface as failed publishes, retried by the relay.
    client.on('error', () => undefined);
    return new MqttOutboxPublisher(client);
  }

  async publish(e: OutboxEvent): Promise<void> {
    if (!this.client.connected) throw new TransientError('DLV_SAGA_CIRCUIT_OPEN', 'outbox: MQTT not connected');
    const msg: NotificationMessage = { v: 1, eventId: e.id, type: e.type, aggregateId: e.aggregateId, ts: e.createdAt, payload: e.payload };
    await this.client.publishAsync(notificationTopic(e.aggregateId), JSON.stringify(msg), { qos: 1 });
  }

  /** The connection to the broker is up (readiness). */
  get connected(): boolean {
    return this.client.connected;
  }

  /** Disconnects cleanly; `force` (or no connection) tears the socket down without waiting. */
  async close(force = false): Promise<void> {
    await this.client.endAsync(force || !this.client.connected);
  }
}
