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
  /**
   * Several core instances (issue 8): tracking events are taken through the shared subscription
   * `$share/<group>/svc/v1/tracking/+`, so the broker hands each event to one instance of the
   * group, not to all. '' (the default): a plain subscription — one instance, or a broker without
   * shared subscriptions (the demo's embedded aedes). Status and dispatch replies stay plain: every
   * instance keeps the drones' positions, and a reply completes the saga step on whichever instance
   * drives that saga (FleetMissionHub keeps every answer; the lease decides who drives).
   */
  trackingShareGroup?: string;
  onReject: (code: string, detail: string) => void;
}

/**
 * delivery-core on the fleet bus as a service principal. A persistent session (clean=false)
 * keeps QoS 1 tracking events queued in the broker while the core is briefly away.
 */
export class MqttFleetLink implements FleetLink {
  private readonly statusListeners: ((s: DroneStatus) => void)[] = [];
  private readonly trackingListeners: ((e: DeliveryTracking) => void | Promise<void>)[] = [];
  private readonly replyListeners: ((r: DispatchReply) => void)[] = [];
  // What the persistent session hands over right after CONNACK — the QoS 1 replies queued while
  // the core was away — arrives before the service has registered its listeners, and mqtt.js has
  // already acknowledged it: held here until a listener takes it, instead of being dropped.
  private readonly heldReplies: DispatchReply[] = [];
  private listenerCame: () => void = () => undefined;
  private readonly trackingListened = new Promise<void>((resolve) => (this.listenerCame = resolve));
  private closing = false;
  /** Settles when the broker granted the subscriptions (after the listeners came: see connect). */
  subscribed: Promise<void> = Promise.resolve();

  private constructor(private readonly client: MqttClient, private readonly onReject: MqttFleetLinkOptions['onReject']) {
    // A tracking event is acknowledged only once the service committed it. mqtt.js sends a QoS 1
    // PUBACK when handleMessage calls back (and takes the next packet only then), so an event
    // taken but not yet written when the core dies stays with the broker's persistent session and
    // comes again (a kill -9 between receipt and commit lost deliveries' final stages: bench:faults).
    // Events come one at a time this way; a stage change is a handful per delivery.
    client.handleMessage = (packet, callback) => {
      if (packet.cmd !== 'publish' || parseServiceTopic(packet.topic)?.kind !== 'tracking') return callback();
      void this.takeTracking(packet.payload).then(() => callback());
    };
    client.on('message', (topic, payload) => {
      if (parseFleetTopic(topic)?.channel === 'status') {
        const d = decodeMessage('DroneStatus', payload);
        if (d.ok) for (const l of this.statusListeners) l(d.value);
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
    // Not awaited here: what the session hands over first is a tracking event waiting for the
    // service's listener (handleMessage), and the SUBACK comes behind it. The service awaits it.
    const tracking = o.trackingShareGroup ? `$share/${o.trackingShareGroup}/${subscriptions.allTracking}` : subscriptions.allTracking;
    link.subscribed = client.subscribeAsync({ [subscriptions.allStatus]: { qos: 0 }, [tracking]: { qos: 1 }, [subscriptions.allDispatchReplies]: { qos: 1 } })
      .then(() => undefined);
    // Seen by whoever awaits it; not an unhandled rejection meanwhile.
    link.subscribed.catch(() => undefined);
    return link;
  }

  onStatus(listener: (s: DroneStatus) => void): void {
    this.statusListeners.push(listener);
  }

  onTracking(listener: (e: DeliveryTracking) => void | Promise<void>): void {
    this.trackingListeners.push(listener);
    this.listenerCame();
  }

  /** Resolves when every listener has taken the event; until then it is retried, never acknowledged. */
  private async takeTracking(payload: Buffer | string): Promise<void> {
    const d = decodeMessage('DeliveryTracking', payload);
    // Malformed: counted and acknowledged, since the same bytes would come again for ever.
    if (!d.ok) return this.onReject(d.code, d.message);
    await this.trackingListened;
    for (let delayMs = 100; ; delayMs = Math.min(delayMs * 2, 5_000)) {
      try {
        for (const l of this.trackingListeners) await l(d.value);
        return;
      } catch (err) {
        // Closing: left unacknowledged, the broker hands it to the next session.
        if (this.closing) return new Promise<void>(() => undefined);
        this.onReject('DLV_ERR_INTERNAL', `tracking ${d.value.deliveryId} ${d.value.stage} not written, again in ${delayMs} ms: ${(err as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
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
    this.closing = true;
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
