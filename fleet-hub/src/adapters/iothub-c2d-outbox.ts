import { c2dTopic } from '../domain/iothub-topics.js';
import type { C2dMessage, C2dQueues } from '../domain/iothub-c2d.js';
import type { IotSession } from './iothub-session.js';
import type { IotRecord } from './iothub-store.js';
import type { IotRefusal } from './iothub-endpoint.js';

export interface C2dOutboxDeps {
  queues: C2dQueues;
  now: () => number;
  /** The device's live connection, if any. */
  session: (deviceId: string) => IotSession | undefined;
  /** Resolves true once the record is on disk (iothub-store.ts), false if the write failed. */
  persist: (r: IotRecord) => Promise<boolean>;
  refuse: (r: IotRefusal) => void;
  log: (line: string, fields?: Record<string, unknown>) => void;
}

/**
 * The IoT Hub endpoint's cloud-to-device side: queue (domain/iothub-c2d.ts), persist, send on
 * the device's devicebound topic at QoS 1, complete on PUBACK, expire by TTL. A message is sent
 * only once its record is on disk, so a device never acts on a message a crash then forgets;
 * what is sent and not acknowledged goes again on the device's next connection.
 */
export class C2dOutbox {
  /** Queued, duplicates not queued again, expired undelivered, completed by the device. */
  readonly stats = { queued: 0, duplicates: 0, expired: 0, completed: 0 };
  private readonly unsynced = new WeakSet<C2dMessage>();
  private readonly inFlight = new WeakMap<IotSession, Set<C2dMessage>>();

  constructor(private readonly d: C2dOutboxDeps) {}

  /** See IotHubEndpoint.sendC2D. */
  send(deviceId: string, payload: Buffer, properties: Record<string, string>, messageId: string): boolean {
    const r = this.d.queues.enqueue(deviceId, messageId, payload, properties, this.d.now());
    if (!r.ok && r.reason === 'IOTHUB_C2D_DUPLICATE') {
      this.stats.duplicates += 1;
      this.d.log(`iothub C2D ${messageId} for ${deviceId} is already queued or delivered: not queued again`, { droneId: deviceId, messageId, reason: r.reason });
      return true;
    }
    if (!r.ok) {
      this.d.refuse({ code: 'HUB_ERR_C2D_QUEUE_FULL', reason: r.reason, clientId: deviceId, principal: deviceId, topic: null });
      return false;
    }
    const m = r.message;
    this.stats.queued += 1;
    this.unsynced.add(m);
    void this.d.persist({ t: 'c2d', d: deviceId, id: m.messageId, p: m.payload.toString('base64'), props: m.properties, at: m.enqueuedAt, exp: m.expiresAt }).then(() => {
      this.unsynced.delete(m);
      this.flush(deviceId);
    });
    return true;
  }

  pending(deviceId: string): number {
    return this.d.queues.pending(deviceId).length;
  }

  /** Sends what is queued and not yet in flight on the device's connection (if it listens). */
  flush(deviceId: string): void {
    const session = this.d.session(deviceId);
    const q = this.d.queues.pending(deviceId);
    if (!session || q.length === 0) return;
    let sent = this.inFlight.get(session);
    if (!sent) this.inFlight.set(session, (sent = new Set()));
    const now = this.d.now();
    for (const m of q) {
      if (sent.has(m) || this.unsynced.has(m) || m.expiresAt <= now) continue;
      // IoT Hub's system properties: message id and absolute expiry (the SDK's messageId, expiryTimeUtc).
      const props = { ...m.properties, '$.mid': m.messageId, '$.exp': new Date(m.expiresAt).toISOString() };
      if (!session.deliver(c2dTopic(deviceId, props), m.payload, 1, m)) return;
      sent.add(m);
    }
  }

  /** Over MQTT, IoT Hub completes a C2D message when the device PUBACKs it. */
  delivered(deviceId: string, token: unknown): void {
    const m = token as C2dMessage | undefined;
    if (!m || !this.d.queues.complete(deviceId, m.messageId)) return;
    this.stats.completed += 1;
    void this.d.persist({ t: 'done', d: deviceId, id: m.messageId, exp: m.expiresAt });
  }

  /** Drops the messages whose TTL ran out, undelivered: counted and logged (HUB_ERR_C2D_EXPIRED). */
  sweep(): void {
    for (const { deviceId, message } of this.d.queues.expire(this.d.now())) {
      this.stats.expired += 1;
      void this.d.persist({ t: 'drop', d: deviceId, id: message.messageId });
      this.d.refuse({ code: 'HUB_ERR_C2D_EXPIRED', reason: 'IOTHUB_C2D_EXPIRED', clientId: deviceId, principal: deviceId, topic: message.messageId });
    }
  }
}
