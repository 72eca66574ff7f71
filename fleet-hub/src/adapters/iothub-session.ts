import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import mqttPacket, { type IConnectPacket, type IPublishPacket, type ISubscribePacket, type IUnsubscribePacket, type Packet } from 'mqtt-packet';
import { topicMatches } from '../domain/iothub-topics.js';

/**
 * One device's MQTT 3.1.1 connection to the IoT Hub endpoint: framing, keep-alive, QoS 0/1 both
 * ways and the connection's subscriptions. What the packets mean is decided by the endpoint
 * (iothub-endpoint.ts) through `SessionHandler`; this class only speaks the protocol.
 * IoT Hub serves MQTT 3.1.1 with QoS 0 and 1 only (QoS 2 closes the connection), one session per device.
 */
export interface SessionHandler {
  /** The first packet; answer with `accept()` or `refuse(rc)`. */
  onConnect(session: IotSession, packet: IConnectPacket): void;
  /** A device PUBLISH; the PUBACK goes out after this returns, unless the session was closed. */
  onPublish(session: IotSession, packet: IPublishPacket): void;
  /** One filter of a SUBSCRIBE: true grants it (QoS ≤ 1), false answers 0x80 for it. */
  onSubscribe(session: IotSession, filter: string): boolean;
  /** After the SUBACK went out: queued messages may now match. */
  afterSubscribe(session: IotSession): void;
  /** A QoS 1 message the hub sent was acknowledged. */
  onDelivered(session: IotSession, token: unknown): void;
  onClose(session: IotSession): void;
}

const CONNECT_TIMEOUT_MS = 10_000;
/** Outgoing bytes buffered for a device that does not read: past this it is dropped (its C2D stay queued). */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

export class IotSession {
  deviceId: string | null = null;
  private readonly filters = new Set<string>();
  private readonly awaitingAck = new Map<number, unknown>();
  private nextMessageId = 1;
  private keepaliveTimer: NodeJS.Timeout | null = null;
  private expiryTimer: NodeJS.Timeout | null = null;
  private lastPacketAt = Date.now();
  private closed = false;

  constructor(private readonly socket: Socket, private readonly handler: SessionHandler) {
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (p: Packet) => this.onPacket(p));
    // Garbage on the wire ends this connection only.
    parser.on('error', () => this.close());
    socket.on('data', (chunk: Buffer) => parser.parse(chunk));
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
    this.keepaliveTimer = setTimeout(() => {
      if (!this.deviceId) this.close();
    }, CONNECT_TIMEOUT_MS);
  }

  /** Subject CN of a client certificate verified against the hub's CA, else null. */
  get certificateName(): string | null {
    if (!(this.socket instanceof TLSSocket) || !this.socket.authorized) return null;
    const cn = this.socket.getPeerCertificate().subject?.CN;
    return typeof cn === 'string' && cn.length > 0 ? cn : null;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * [MQTT-3.2.2] CONNACK 0, with the subscriptions of a kept session [MQTT-3.2.2-2]; then
   * keep-alive: no packet for 1.5 × keepalive closes it [MQTT-3.1.2-24]. A SAS login ends when its
   * token expires, as on IoT Hub (the SDK renews its token before that and reconnects).
   */
  accept(deviceId: string, keepaliveS: number, keptFilters: ReadonlySet<string> | null, expiresAtMs: number | null): void {
    this.deviceId = deviceId;
    for (const f of keptFilters ?? []) this.filters.add(f);
    this.send({ cmd: 'connack', returnCode: 0, sessionPresent: keptFilters !== null });
    if (expiresAtMs !== null) this.expiryTimer = setTimeout(() => this.close(), Math.min(Math.max(0, expiresAtMs - Date.now()), 2 ** 31 - 1));
    if (this.keepaliveTimer) clearTimeout(this.keepaliveTimer);
    this.keepaliveTimer = null;
    if (keepaliveS > 0) {
      const limitMs = keepaliveS * 1500;
      this.keepaliveTimer = setInterval(() => {
        if (Date.now() - this.lastPacketAt > limitMs) this.close();
      }, Math.min(limitMs, 5_000));
    }
  }

  /** CONNACK with a refusal code (4 bad user name or password, 5 not authorized), then close [MQTT-3.2.2-5]. */
  refuse(returnCode: number): void {
    this.send({ cmd: 'connack', returnCode, sessionPresent: false });
    this.socket.end();
    this.close();
  }

  /** The subscriptions, to keep for the device's next connection when it asked for a persistent session. */
  get subscriptions(): ReadonlySet<string> {
    return this.filters;
  }

  subscribedTo(topic: string): boolean {
    for (const f of this.filters) if (topicMatches(f, topic)) return true;
    return false;
  }

  /** Sends if a subscription matches; QoS 1 messages report their PUBACK through onDelivered(token). */
  deliver(topic: string, payload: Buffer, qos: 0 | 1, token?: unknown): boolean {
    if (this.closed || !this.subscribedTo(topic)) return false;
    const packet: IPublishPacket = { cmd: 'publish', topic, payload, qos, dup: false, retain: false };
    if (qos === 1) {
      const id = this.nextMessageId;
      this.nextMessageId = (this.nextMessageId % 65535) + 1;
      packet.messageId = id;
      this.awaitingAck.set(id, token);
    }
    this.send(packet);
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.keepaliveTimer) clearTimeout(this.keepaliveTimer);
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.socket.destroy();
    this.handler.onClose(this);
  }

  private send(packet: Packet): void {
    if (this.closed) return;
    if (this.socket.writableLength > MAX_BUFFERED_BYTES) return this.close();
    this.socket.write(mqttPacket.generate(packet));
  }

  private onPacket(p: Packet): void {
    if (this.closed) return;
    this.lastPacketAt = Date.now();
    if (!this.deviceId) {
      // [MQTT-3.1.0-1] the first packet must be CONNECT.
      if (p.cmd !== 'connect') return this.close();
      return this.handler.onConnect(this, p);
    }
    switch (p.cmd) {
      case 'publish':
        return this.onPublish(p);
      case 'puback': {
        const token = this.awaitingAck.get(p.messageId ?? -1);
        if (this.awaitingAck.delete(p.messageId ?? -1)) this.handler.onDelivered(this, token);
        return;
      }
      case 'subscribe':
        return this.onSubscribe(p);
      case 'unsubscribe':
        return this.onUnsubscribe(p);
      case 'pingreq':
        return this.send({ cmd: 'pingresp' });
      case 'disconnect':
        return this.close();
      default:
        // A second CONNECT [MQTT-3.1.0-2], QoS 2 flow packets: protocol violations here.
        return this.close();
    }
  }

  private onPublish(p: IPublishPacket): void {
    if (p.qos === 2) return this.close();
    this.handler.onPublish(this, p);
    if (p.qos === 1 && !this.closed) this.send({ cmd: 'puback', messageId: p.messageId! });
  }

  private onSubscribe(p: ISubscribePacket): void {
    const granted = p.subscriptions.map((s) => {
      if (!this.handler.onSubscribe(this, s.topic)) return 0x80;
      this.filters.add(s.topic);
      return Math.min(s.qos, 1);
    });
    this.send({ cmd: 'suback', messageId: p.messageId!, granted });
    this.handler.afterSubscribe(this);
  }

  private onUnsubscribe(p: IUnsubscribePacket): void {
    for (const f of p.unsubscriptions) this.filters.delete(f);
    this.send({ cmd: 'unsuback', messageId: p.messageId!, granted: [] });
  }
}
