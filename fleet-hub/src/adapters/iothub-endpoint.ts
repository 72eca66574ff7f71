import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createTlsServer, type Server } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { IConnectPacket, IPublishPacket } from 'mqtt-packet';
import { parseIotUsername, parseSasToken, verifySas } from '../domain/iothub-auth.js';
import {
  desiredPatchTopic, mayDeviceSubscribe, methodRequestTopic, parseDeviceTopic, twinResponseTopic,
} from '../domain/iothub-topics.js';
import { TwinStore, type TwinDoc } from '../domain/iothub-twin.js';
import { C2dQueues } from '../domain/iothub-c2d.js';
import { C2dOutbox } from './iothub-c2d-outbox.js';
import { IotHubStore, type IotRecord } from './iothub-store.js';
import { IotSession, type SessionHandler } from './iothub-session.js';
import type { DeviceRegistry } from './device-registry.js';
import type { HubErrorCode } from '../errors.js';

/** The hub's channels a telemetry message's `type` property maps onto (the MQTT-native topics' last segment). */
export type IotChannel = 'status' | 'events' | 'cmd/result';
const CHANNEL_BY_TYPE: Record<string, IotChannel> = { status: 'status', event: 'events', result: 'cmd/result' };

export interface IotRefusal {
  code: HubErrorCode;
  /** False for repeats of a flood's refusals: counted, not each logged. */
  log?: boolean;
  /** Finer than the code: the SAS check's verdict, the ACL rule, the limit. */
  reason: string;
  clientId: string;
  principal: string | null;
  topic: string | null;
}

export interface IotHubEndpointOptions {
  host: string;
  port: number;
  certFile: string;
  keyFile: string;
  /** Signs device certificates: an X.509 device is the subject CN of a certificate that chains here. */
  caFile: string;
  /** The host name SAS tokens must name; '' accepts the one in the device's user name. */
  hostName: string;
  registry: DeviceRegistry;
  limits: { maxPayloadBytes: number; msgPerSec: number; burst: number };
  /** Cloud-to-device messages kept per device while it is away (IoT Hub: 50); the excess is refused. */
  maxQueuedC2D: number;
  /** How long a cloud-to-device message waits for its device (IoT Hub's default TTL: 1 h), on the hub's clock. */
  c2dTtlMs: number;
  /** Directory keeping twins, C2D queues and known devices across restarts (iothub-store.ts); '' = memory only. */
  stateDir: string;
  log: (line: string, fields?: Record<string, unknown>) => void;
  now: () => number;
  onTelemetry: (deviceId: string, channel: IotChannel, payload: Buffer) => void;
  onOnline: (deviceId: string, online: boolean) => void;
  onRefusal: (r: IotRefusal) => void;
}

export interface MethodResult {
  /** The device's status, or 404 (not connected / not listening) and 504 (no answer in time), as IoT Hub answers. */
  status: number;
  payload: unknown;
}

// [MQTT-3.2.2-3] CONNACK return codes.
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

/**
 * An IoT Hub-compatible device endpoint (mqtts): IoT Hub's user name, SAS token and X.509 identity,
 * telemetry, cloud-to-device messages, direct methods and twins, so an agent built on
 * azure-iot-device talks to a self-hosted hub unchanged. Telemetry goes into the hub's own
 * ingest path through `onTelemetry`.
 */
export class IotHubEndpoint implements SessionHandler {
  readonly twins = new TwinStore();
  /** Refusals by fine reason (the hub counts them by code). */
  readonly refusedByReason: Record<string, number> = {};
  private readonly sessions = new Map<string, IotSession>();
  private readonly c2d: C2dQueues;
  private readonly outbox: C2dOutbox;
  /** Devices that have connected here at least once (kept on disk). */
  private readonly seen = new Set<string>();
  private store: IotHubStore | null = null;
  private sweep: NodeJS.Timeout | null = null;
  private readonly methods = new Map<string, { deviceId: string; resolve: (r: MethodResult) => void; timer: NodeJS.Timeout }>();
  private readonly buckets = new WeakMap<IotSession, { tokens: number; at: number; lastLog: number }>();
  /** Subscriptions of devices that connected with CleanSession 0, for their next connection [MQTT-3.1.2-4]. */
  private readonly keptSessions = new Map<string, Set<string>>();
  private readonly cleanSession = new WeakMap<IotSession, boolean>();
  private nextRid = 1;
  private server: Server | null = null;

  private constructor(private readonly opts: IotHubEndpointOptions) {
    this.c2d = new C2dQueues(opts.maxQueuedC2D, opts.c2dTtlMs);
    this.outbox = new C2dOutbox({
      queues: this.c2d, now: opts.now, session: (id) => this.sessions.get(id), log: opts.log,
      persist: (r) => this.persist(r), refuse: (r) => this.refuse(r),
    });
  }

  static async start(opts: IotHubEndpointOptions): Promise<IotHubEndpoint> {
    const ep = new IotHubEndpoint(opts);
    if (opts.stateDir) {
      ep.store = await IotHubStore.open(opts.stateDir, { twins: ep.twins, c2d: ep.c2d, seen: ep.seen });
      if (ep.store.skipped > 0) opts.log(`iothub state: ${ep.store.skipped} torn or unreadable journal line(s) skipped in ${opts.stateDir}`, { dir: opts.stateDir });
    }
    ep.sweep = setInterval(() => ep.outbox.sweep(), Math.min(1_000, Math.max(10, opts.c2dTtlMs)));
    ep.sweep.unref();
    const server = createTlsServer({
      cert: readFileSync(opts.certFile), key: readFileSync(opts.keyFile), ca: readFileSync(opts.caFile),
      // Ask for a certificate but let SAS devices in too; onConnect looks at `authorized`.
      requestCert: true, rejectUnauthorized: false,
    }, (socket) => new IotSession(socket, ep));
    // A failed handshake concerns that socket only.
    server.on('tlsClientError', () => undefined);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(opts.port, opts.host, () => resolve());
      });
    } catch (err) {
      await ep.close();
      throw err;
    }
    ep.server = server;
    return ep;
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  get connections(): number {
    return this.sessions.size;
  }

  isConnected(deviceId: string): boolean {
    return this.sessions.has(deviceId);
  }

  /**
   * Queues a cloud-to-device message (QoS 1; completed when the device acknowledges it, dropped
   * when its TTL runs out), sent once it is on disk. A message id already queued or delivered
   * and still live is not queued again (true: nothing lost). False when the device's queue is
   * full: refused with HUB_ERR_C2D_QUEUE_FULL and counted.
   */
  sendC2D(deviceId: string, payload: Buffer, properties: Record<string, string> = {}, messageId: string = randomUUID()): boolean {
    return this.outbox.send(deviceId, payload, properties, messageId);
  }

  /** Cloud-to-device messages: queued, duplicates not queued again, expired undelivered, completed. */
  get c2dStats(): Readonly<C2dOutbox['stats']> {
    return this.outbox.stats;
  }

  /** Messages waiting for a device (sent, not yet acknowledged, or not sent). */
  queuedC2D(deviceId: string): number {
    return this.outbox.pending(deviceId);
  }

  /** Whether the device has ever connected here (its commands are ours to carry). */
  knows(deviceId: string): boolean {
    return this.seen.has(deviceId);
  }

  /** A direct method: request on `$iothub/methods/POST/{method}/?$rid=`, answer on `$iothub/methods/res/{status}/?$rid=`. */
  invokeMethod(deviceId: string, method: string, payload: unknown, timeoutMs: number): Promise<MethodResult> {
    const session = this.sessions.get(deviceId);
    const rid = String(this.nextRid++);
    const topic = methodRequestTopic(method, rid);
    if (!session?.subscribedTo(topic)) return Promise.resolve({ status: 404, payload: { message: `device ${deviceId} is not online for methods` } });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.methods.delete(rid);
        resolve({ status: 504, payload: { message: `device ${deviceId} did not answer ${method} within ${timeoutMs} ms` } });
      }, timeoutMs);
      this.methods.set(rid, { deviceId, resolve, timer });
      session.deliver(topic, Buffer.from(JSON.stringify(payload ?? null)), 0);
    });
  }

  twin(deviceId: string): TwinDoc {
    return this.twins.get(deviceId);
  }

  /** Desired-property patch: stored (on disk when the state is), then sent to the device if it listens. */
  async updateDesired(deviceId: string, patch: Record<string, unknown>): Promise<number> {
    const r = this.twins.patchDesired(deviceId, patch);
    if (!r.ok) throw new Error(r.reason);
    if (!(await this.persistTwin(deviceId, 'desired', r.version))) throw new Error('the twin could not be stored');
    this.sessions.get(deviceId)?.deliver(desiredPatchTopic(r.version), Buffer.from(JSON.stringify({ ...patch, $version: r.version })), 0);
    return r.version;
  }

  /** Drops the device's connection and its kept session now (revocation). */
  disconnect(deviceId: string): void {
    this.sessions.get(deviceId)?.close();
    this.keptSessions.delete(deviceId);
  }

  async close(): Promise<void> {
    if (this.sweep) clearInterval(this.sweep);
    for (const s of [...this.sessions.values()]) s.close();
    for (const m of this.methods.values()) clearTimeout(m.timer);
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    await this.store?.close();
  }

  onConnect(session: IotSession, p: IConnectPacket): void {
    const clientId = p.clientId;
    const refuse = (code: HubErrorCode, reason: string, rc: number, principal: string | null) => {
      this.refuse({ code, reason, clientId, principal, topic: null });
      session.refuse(rc);
    };
    if (p.protocolVersion !== 4) return refuse('HUB_ERR_BAD_CREDENTIALS', 'IOTHUB_PROTOCOL_VERSION', BAD_USERNAME_OR_PASSWORD, null);
    const user = parseIotUsername(p.username ?? '');
    if (!user) return refuse('HUB_ERR_BAD_CREDENTIALS', 'IOTHUB_BAD_USERNAME', BAD_USERNAME_OR_PASSWORD, null);
    const id = user.deviceId;
    // IoT Hub: the client id is the device id, and the user name names the same device.
    if (clientId !== id) return refuse('HUB_ERR_CLIENT_ID', 'IOTHUB_CLIENT_ID', NOT_AUTHORIZED, id);
    const rec = this.opts.registry.list().find((d) => d.id === id && d.role === 'drone');
    if (!rec) return refuse('HUB_ERR_BAD_CREDENTIALS', 'IOTHUB_UNKNOWN_DEVICE', BAD_USERNAME_OR_PASSWORD, id);
    if (rec.revokedAt) return refuse('HUB_ERR_REVOKED', 'IOTHUB_REVOKED', NOT_AUTHORIZED, id);
    let expiresAtMs: number | null = null;
    if (p.password && p.password.length > 0) {
      if (!rec.symmetricKey) return refuse('HUB_ERR_BAD_CREDENTIALS', 'IOTHUB_NO_SYMMETRIC_KEY', BAD_USERNAME_OR_PASSWORD, id);
      const token = p.password.toString('utf8');
      const now = this.opts.now();
      const failure = verifySas({ username: user, token, keyBase64: rec.symmetricKey, nowMs: now, hostName: this.opts.hostName });
      if (failure) return refuse('HUB_ERR_BAD_CREDENTIALS', failure, BAD_USERNAME_OR_PASSWORD, id);
      // The session ends when the token does (timed on this process's clock from the hub clock's distance).
      expiresAtMs = Date.now() + (parseSasToken(token)!.expiry * 1000 - now);
    } else if (session.certificateName !== id) {
      return refuse('HUB_ERR_BAD_CREDENTIALS', session.certificateName ? 'IOTHUB_CERT_OTHER_DEVICE' : 'IOTHUB_NO_CREDENTIALS', BAD_USERNAME_OR_PASSWORD, id);
    }
    // One connection per device: the newer one wins, as on IoT Hub.
    this.sessions.get(id)?.close();
    this.sessions.set(id, session);
    const clean = p.clean !== false;
    this.cleanSession.set(session, clean);
    if (clean) this.keptSessions.delete(id);
    session.accept(id, p.keepalive ?? 0, clean ? null : (this.keptSessions.get(id) ?? null), expiresAtMs);
    if (!this.seen.has(id)) {
      this.seen.add(id);
      void this.persist({ t: 'seen', d: id });
    }
    this.opts.onOnline(id, true);
    this.outbox.flush(id);
  }

  onPublish(session: IotSession, p: IPublishPacket): void {
    const id = session.deviceId!;
    const payload = typeof p.payload === 'string' ? Buffer.from(p.payload) : p.payload;
    const topic = parseDeviceTopic(id, p.topic);
    if (!topic) {
      // IoT Hub closes the connection of a device publishing where it may not.
      this.refuse({ code: 'HUB_ERR_ACL_PUBLISH', reason: 'IOTHUB_TOPIC_NOT_ALLOWED', clientId: id, principal: id, topic: p.topic });
      return session.close();
    }
    const limited = this.overLimit(session, payload.length);
    // Acknowledged and dropped, as on the MQTT listeners; a flood is logged once a second.
    if (limited) return this.refuse({ code: limited.code, reason: limited.code, clientId: id, principal: id, topic: p.topic, log: limited.log });
    switch (topic.kind) {
      case 'telemetry': {
        const channel = CHANNEL_BY_TYPE[topic.properties.type ?? ''];
        if (!channel) return this.refuse({ code: 'HUB_ERR_UNKNOWN_TOPIC', reason: `IOTHUB_TYPE_${topic.properties.type === undefined ? 'MISSING' : 'UNKNOWN'}`, clientId: id, principal: id, topic: p.topic });
        return this.opts.onTelemetry(id, channel, payload);
      }
      case 'twin-get':
        session.deliver(twinResponseTopic(200, topic.rid, null), Buffer.from(JSON.stringify(this.twins.get(id))), 0);
        return;
      case 'twin-reported': {
        let patch: unknown;
        try {
          patch = JSON.parse(payload.toString('utf8'));
        } catch {
          patch = undefined;
        }
        const r = this.twins.patchReported(id, patch);
        if (!r.ok) {
          this.refuse({ code: 'HUB_ERR_PAYLOAD', reason: 'IOTHUB_BAD_TWIN_PATCH', clientId: id, principal: id, topic: p.topic });
          session.deliver(twinResponseTopic(400, topic.rid, null), Buffer.from(JSON.stringify({ errorCode: 400004, message: r.reason })), 0);
          return;
        }
        // Answered once the new version is on disk; a failed write answers 500 as IoT Hub does on a server error.
        void this.persistTwin(id, 'reported', r.version).then((ok) => {
          if (ok) session.deliver(twinResponseTopic(204, topic.rid, r.version), Buffer.alloc(0), 0);
          else session.deliver(twinResponseTopic(500, topic.rid, null), Buffer.from(JSON.stringify({ errorCode: 500001, message: 'twin not stored' })), 0);
        });
        return;
      }
      case 'method-response': {
        const pending = this.methods.get(topic.rid);
        // Only the device that was asked may answer.
        if (!pending || pending.deviceId !== id) return this.refuse({ code: 'HUB_ERR_UNKNOWN_TOPIC', reason: 'IOTHUB_UNKNOWN_METHOD_RID', clientId: id, principal: id, topic: p.topic });
        this.methods.delete(topic.rid);
        clearTimeout(pending.timer);
        pending.resolve({ status: topic.status, payload: parseBody(payload) });
      }
    }
  }

  onSubscribe(session: IotSession, filter: string): boolean {
    const id = session.deviceId!;
    if (mayDeviceSubscribe(id, filter)) return true;
    this.refuse({ code: 'HUB_ERR_ACL_SUBSCRIBE', reason: 'IOTHUB_FILTER_NOT_ALLOWED', clientId: id, principal: id, topic: filter });
    return false;
  }

  afterSubscribe(session: IotSession): void {
    if (session.deviceId) this.outbox.flush(session.deviceId);
  }

  onDelivered(session: IotSession, token: unknown): void {
    if (session.deviceId) this.outbox.delivered(session.deviceId, token);
  }

  onClose(session: IotSession): void {
    const id = session.deviceId;
    if (!id || this.sessions.get(id) !== session) return;
    this.sessions.delete(id);
    if (this.cleanSession.get(session) === false) this.keptSessions.set(id, new Set(session.subscriptions));
    for (const [rid, m] of this.methods) {
      if (m.deviceId !== id) continue;
      this.methods.delete(rid);
      clearTimeout(m.timer);
      m.resolve({ status: 404, payload: { message: `device ${id} disconnected` } });
    }
    this.opts.onOnline(id, false);
  }

  private persistTwin(deviceId: string, section: 'desired' | 'reported', version: number): Promise<boolean> {
    return this.persist({ t: 'twin', d: deviceId, s: section, props: this.twins.section(deviceId, section).props, v: version });
  }

  /** Resolves true once the change is on disk (at once without a state directory), false if the write failed. */
  private persist(r: IotRecord): Promise<boolean> {
    if (!this.store) return Promise.resolve(true);
    return this.store.append(r).then(() => true, (err: unknown) => {
      this.opts.log(`iothub state write failed in ${this.opts.stateDir}: ${String(err)}`, { dir: this.opts.stateDir, droneId: r.d });
      return false;
    });
  }

  private overLimit(session: IotSession, size: number): { code: HubErrorCode; log: boolean } | null {
    const { maxPayloadBytes, msgPerSec, burst } = this.opts.limits;
    const now = performance.now();
    const b = this.buckets.get(session) ?? { tokens: burst, at: now, lastLog: -Infinity };
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * msgPerSec);
    b.at = now;
    this.buckets.set(session, b);
    let code: HubErrorCode | null = null;
    if (size > maxPayloadBytes) code = 'HUB_ERR_TOO_LARGE';
    else if (b.tokens < 1) code = 'HUB_ERR_RATE';
    else b.tokens -= 1;
    if (!code) return null;
    const log = now - b.lastLog >= 1_000;
    if (log) b.lastLog = now;
    return { code, log };
  }

  private refuse(r: IotRefusal): void {
    this.refusedByReason[r.reason] = (this.refusedByReason[r.reason] ?? 0) + 1;
    this.opts.onRefusal(r);
  }
}

function parseBody(payload: Buffer): unknown {
  if (payload.length === 0) return null;
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    return payload.toString('utf8');
  }
}
