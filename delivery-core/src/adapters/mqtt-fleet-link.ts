import mqtt, { type MqttClient } from 'mqtt';
import {
  decodeMessage, encodeMessage, parseFleetTopic, parseServiceTopic, subscriptions, topics,
  type DeliveryAssignment, type DeliveryTracking, type DispatchReply, type DroneStatus,
} from '@aerie/contracts';
import type { FleetLink } from '../ports.js';

export interface MqttFleetLinkOptions {
  url: string;
  username: string;
  password: string;
  clientId: string;
  onReject: (code: string, detail: string) => void;
}

/**
 * delivery-core on the fleet bus as a service principal. A persistent session (clean=false)
 * keeps QoS 1 tracking events queued in the broker while the core is briefly away.
 */
export class MqttFleetLink implements FleetLink {
  private readonly statusListeners: ((s: DroneStatus) => void)[] = [];
  private readonly trackingListeners: ((e: DeliveryTracking) => void)[] = [];
  private readonly replyListeners: ((r: DispatchReply) => void)[] = [];
  // What the persistent session hands over right after CONNACK — the QoS 1 tracking events and
  // replies queued while the core was away — arrives before the service has registered its
  // listeners, and mqtt.js has already acknowledged it: held here until a listener takes it,
  // instead of being dropped (a kill -9 of the core lost deliveries' final stages: bench:faults).
  private readonly heldTracking: DeliveryTracking[] = [];
  private readonly heldReplies: DispatchReply[] = [];

  private constructor(private readonly client: MqttClient, onReject: MqttFleetLinkOptions['onReject']) {
    client.on('message', (topic, payload) => {
      if (parseFleetTopic(topic)?.channel === 'status') {
        const d = decodeMessage('DroneStatus', payload);
        if (d.ok) for (const l of this.statusListeners) l(d.value);
        else onReject(d.code, d.message);
      } else if (parseServiceTopic(topic)?.kind === 'tracking') {
        const d = decodeMessage('DeliveryTracking', payload);
        if (d.ok && this.trackingListeners.length === 0) this.heldTracking.push(d.value);
        else if (d.ok) for (const l of this.trackingListeners) l(d.value);
        else onReject(d.code, d.message);
      } else if (parseServiceTopic(topic)?.kind === 'dispatch') {
        const d = decodeMessage('DispatchReply', payload);
        if (d.ok && this.replyListeners.length === 0) this.heldReplies.push(d.value);
        else if (d.ok) for (const l of this.replyListeners) l(d.value);
        else onReject(d.code, d.message);
      }
    });
  }

  static async connect(o: MqttFleetLinkOptions): Promise<MqttFleetLink> {
    const client = mqtt.connect(o.url, {
      clientId: o.clientId, username: o.username || undefined, password: o.password || undefined,
      protocolVersion: 4, clean: false, reconnectPeriod: 1000,
    });
    const link = new MqttFleetLink(client, o.onReject);
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', (err) => {
        client.end(true);
        reject(err);
      });
    });
    client.on('error', (err) => o.onReject('DLV_ERR_MQTT', err.message));
    // Replies at QoS 1 on the persistent session: one sent while the core restarts waits in the broker.
    await client.subscribeAsync({ [subscriptions.allStatus]: { qos: 0 }, [subscriptions.allTracking]: { qos: 1 }, [subscriptions.allDispatchReplies]: { qos: 1 } });
    return link;
  }

  onStatus(listener: (s: DroneStatus) => void): void {
    this.statusListeners.push(listener);
  }

  onTracking(listener: (e: DeliveryTracking) => void): void {
    this.trackingListeners.push(listener);
    handOver(this.heldTracking, listener);
  }

  onDispatchReply(listener: (r: DispatchReply) => void): void {
    this.replyListeners.push(listener);
    handOver(this.heldReplies, listener);
  }

  publishAssignment(deliveryId: string, a: DeliveryAssignment | null): void {
    this.client.publish(topics.assignment(deliveryId), a ? encodeMessage(a) : '', { qos: 1, retain: true });
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

/** Gives the first listener what was held for it, after the current turn (it registers from a constructor). */
function handOver<T>(held: T[], listener: (v: T) => void): void {
  if (held.length === 0) return;
  const items = held.splice(0);
  setImmediate(() => {
    for (const v of items) listener(v);
  });
}
