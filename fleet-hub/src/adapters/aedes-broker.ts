import { createServer, type Server } from 'node:net';
import { readFileSync } from 'node:fs';
import { createServer as createTlsServer, TLSSocket } from 'node:tls';
import { createServer as createHttpServer } from 'node:http';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { performance } from 'node:perf_hooks';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { SVC_PREFIX, subscriptions } from '@aerie/contracts';
import { authorizePublish, authorizeSubscribe, type Principal } from '../domain/acl.js';
import type { DeviceRegistry } from './device-registry.js';
import type { FileRetainedStore } from './retained-store.js';
import type { HubErrorCode } from '../errors.js';
import { DroneIntake, type IntakeHooks, type ParsedPublish } from './drone-intake.js';

export interface Refusal {
  code: HubErrorCode;
  clientId: string;
  principal: string | null;
  topic: string | null;
  /** False for repeats of a flood's refusals, which are counted but not each logged. */
  log?: boolean;
}

export interface ConnectionLimits {
  maxPayloadBytes: number;
  msgPerSec: number;
  burst: number;
  maxInflightInbound: number;
}

export interface BrokerOptions {
  host: string;
  port: number;
  registry: DeviceRegistry;
  /** Principals that exist only in this process (the hub's own client). */
  internal: Map<string, { secret: string; principal: Principal }>;
  onRefusal: (r: Refusal) => void;
  /** Applied to drone connections; the hub's own principals are not limited. */
  limits: ConnectionLimits;
  /** mqtts listener; client certificates signed by `caFile` identify drones by their subject CN. */
  tls: { port: number; certFile: string; keyFile: string; caFile: string } | null;
  /** MQTT over WebSocket (plain HTTP upgrade on any path); null = off. */
  wsPort: number | null;
  /** Durable retained messages (svc/…), replayed at start; null = aedes' memory only. */
  retained?: FileRetainedStore | null;
}

// [MQTT-4.7.2-1] wildcard filters never match topics starting with '$', so a PUBLISH moved
// there reaches no subscriber. MQTT 3.1.1 has no negative PUBACK, and aedes closes the
// connection on an authorizePublish error; moving the excess here refuses it while the
// drone's connection, and its next in-limit messages, carry on.
const REFUSED_TOPIC = '$aerie/refused';

/** Token bucket per connection (monotonic time, not the domain clock). */
interface Bucket {
  tokens: number;
  at: number;
  lastLog: number;
}

// [MQTT-3.2.2-3] CONNACK return codes 4 (bad user name or password) and 5 (not authorized).
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

function authError(code: number, message: string): AuthenticateError {
  const err = new Error(message) as AuthenticateError;
  err.returnCode = code;
  return err;
}

/** The embedded aedes broker: authenticates against the device registry and enforces the ACL. */
export class EmbeddedBroker {
  private readonly principals = new WeakMap<Client, Principal>();
  private readonly buckets = new WeakMap<Client, Bucket>();
  private readonly liveClients = new Map<string, Client>();
  /** The hub's intake of drone statuses and events (drone-intake.ts); null until the hub subscribes to them. */
  private intakeSink: ((topic: string, payload: Buffer) => void) | null = null;
  /** Payloads the drone intake queued and also handed to aedes for other subscribers. */
  private readonly taken = new WeakSet<Buffer>();
  /** The hub's in-process subscription handlers (subscribeLocal). */
  private readonly localHandlers = new Set<unknown>();
  /** Per topic: does a subscriber other than the hub match it? Cleared on any (un)subscription. */
  private readonly routedCache = new Map<string, boolean>();
  /**
   * A persistent session (clean = false) has subscribed to fleet topics: aedes queues QoS 1/2
   * messages for it while it is offline (enqueueOffline), which no live subscription shows, so
   * from then on every message the intake takes is routed through aedes too.
   */
  private persistentFleetSubscriber = false;
  /** Set once the listeners were told to close (stopAccepting); resolves when they have. */
  private listenersClosed: Promise<void> | null = null;

  private constructor(
    private readonly aedes: Aedes, private readonly server: Server, private readonly tlsServer: Server | null, private readonly wsServer: Server | null,
  ) {}

  static async start(opts: BrokerOptions): Promise<EmbeddedBroker> {
    let self: EmbeddedBroker | null = null;
    const aedes = await Aedes.createBroker({
      // aedes 1.x waits this long for a slow client's socket to drain before dropping it.
      drainTimeout: 5_000,
      maxInflightInbound: opts.limits.maxInflightInbound,
      authenticate: (client, username, password, done) => {
        const id = username ?? '';
        const secret = password?.toString('utf8') ?? '';
        const refuse = (code: HubErrorCode, rc: number) => {
          opts.onRefusal({ code, clientId: client.id, principal: id || null, topic: null });
          done(authError(rc, code), false);
        };
        const cn = certificateName(client);
        if (cn !== null && !id) {
          // X.509: the verified certificate's subject CN names the device; the registry still
          // decides, so revoking the device refuses its certificate at once.
          const rec = opts.registry.list().find((d) => d.id === cn);
          if (!rec) return refuse('HUB_ERR_BAD_CREDENTIALS', BAD_USERNAME_OR_PASSWORD);
          if (rec.revokedAt) return refuse('HUB_ERR_REVOKED', NOT_AUTHORIZED);
          if (rec.role === 'drone' && client.id !== rec.id) return refuse('HUB_ERR_CLIENT_ID', NOT_AUTHORIZED);
          self?.principals.set(client, { id: rec.id, role: rec.role });
          return done(null, true);
        }
        const internal = opts.internal.get(id);
        if (internal) {
          if (internal.secret === secret) {
            self?.principals.set(client, internal.principal);
            done(null, true);
          } else refuse('HUB_ERR_BAD_CREDENTIALS', BAD_USERNAME_OR_PASSWORD);
          return;
        }
        opts.registry.verify(id, secret).then((outcome) => {
          if (!outcome.ok) return refuse(outcome.code, outcome.code === 'HUB_ERR_REVOKED' ? NOT_AUTHORIZED : BAD_USERNAME_OR_PASSWORD);
          // A drone's session is its identity: it may not take over another drone's client id.
          if (outcome.principal.role === 'drone' && client.id !== outcome.principal.id) return refuse('HUB_ERR_CLIENT_ID', NOT_AUTHORIZED);
          self?.principals.set(client, outcome.principal);
          done(null, true);
        }, () => refuse('HUB_ERR_BAD_CREDENTIALS', BAD_USERNAME_OR_PASSWORD));
      },
      authorizePublish: (client, packet, done) => {
        if (!client) return done(null);
        const p = self?.principals.get(client);
        const code = p ? authorizePublish(p, packet.topic) : 'HUB_ERR_ACL_PUBLISH';
        if (code) {
          opts.onRefusal({ code, clientId: client.id, principal: p?.id ?? null, topic: packet.topic });
          return done(new Error(code));
        }
        if (p?.role === 'drone' && self) {
          const limited = self.overLimit(client, packet.payload.length, opts.limits);
          if (limited) {
            opts.onRefusal({ code: limited.code, clientId: client.id, principal: p.id, topic: packet.topic, log: limited.log });
            packet.topic = REFUSED_TOPIC;
            packet.payload = Buffer.alloc(0);
            packet.retain = false;
          }
        }
        // aedes 1.x acknowledges a QoS 1 PUBLISH before storing it (handlers/publish.js), so a
        // kept retained message is written here, the last step before the PUBACK: acknowledged
        // means on disk.
        const keep = opts.retained;
        if (keep && packet.retain && keep.keeps(packet.topic)) {
          const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
          keep.put({ topic: packet.topic, payload, qos: packet.qos }).then(() => done(null), (err: unknown) => done(err instanceof Error ? err : new Error(String(err))));
          return;
        }
        done(null);
      },
      authorizeSubscribe: (client, sub, done) => {
        const p = self?.principals.get(client);
        const code = p ? authorizeSubscribe(p, sub.topic) : 'HUB_ERR_ACL_SUBSCRIBE';
        if (code) {
          opts.onRefusal({ code, clientId: client.id, principal: p?.id ?? null, topic: sub.topic });
          // A null subscription answers SUBACK 0x80 for this filter without dropping the client.
          return done(null, null);
        }
        done(null, sub);
      },
    });
    if (opts.retained) await replayRetained(aedes, opts.retained);
    const server = createServer(aedes.handle);
    await listen(server, opts.port, opts.host);
    let tlsServer: Server | null = null;
    if (opts.tls) {
      tlsServer = createTlsServer({
        cert: readFileSync(opts.tls.certFile), key: readFileSync(opts.tls.keyFile), ca: readFileSync(opts.tls.caFile),
        // Ask for a certificate but let password clients in too; authenticate checks `authorized`.
        requestCert: true, rejectUnauthorized: false,
      }, aedes.handle);
      await listen(tlsServer, opts.tls.port, opts.host);
    }
    let wsServer: Server | null = null;
    if (opts.wsPort !== null) {
      const http = createHttpServer();
      const wss = new WebSocketServer({ server: http });
      wss.on('connection', (socket, req) => aedes.handle(createWebSocketStream(socket), req));
      await listen(http, opts.wsPort, opts.host);
      wsServer = http;
    }
    const broker = new EmbeddedBroker(aedes, server, tlsServer, wsServer);
    self = broker;
    const hooks: IntakeHooks = {
      sink: () => broker.intakeSink,
      refuse: (client, topic, size) => {
        const limited = broker.overLimit(client, size, opts.limits);
        if (limited) opts.onRefusal({ code: limited.code, clientId: client.id, principal: broker.principals.get(client)?.id ?? null, topic, log: limited.log });
        return limited !== null;
      },
      routed: (topic) => broker.routed(topic),
      route: (client, packet) => broker.route(client, packet),
    };
    aedes.on('client', (c) => {
      const p = broker.principals.get(c);
      if (!p) return;
      broker.liveClients.set(p.id, c);
      // MQTT 3.1.1 drones; anything it does not take goes through aedes as before.
      if (p.role === 'drone') DroneIntake.attach(c, p.id, hooks);
    });
    aedes.on('clientDisconnect', (c) => {
      broker.routedCache.clear();
      const p = broker.principals.get(c);
      if (p && broker.liveClients.get(p.id) === c) broker.liveClients.delete(p.id);
    });
    aedes.on('subscribe', (subs, client) => {
      broker.routedCache.clear();
      if (!client.clean && subs.some((s) => !s.topic.startsWith(`${SVC_PREFIX}/`))) broker.persistentFleetSubscriber = true;
    });
    aedes.on('unsubscribe', () => broker.routedCache.clear());
    // aedes closes a connection past maxInflightInbound (QoS 2 awaiting PUBREL) with only a
    // clientError; the excess is a refusal like the others: counted by code and logged.
    aedes.on('clientError', (c, err) => {
      if (!/maxInflightInbound exceeded/.test(err.message)) return;
      opts.onRefusal({ code: 'HUB_ERR_INFLIGHT', clientId: c.id, principal: broker.principals.get(c)?.id ?? null, topic: null });
    });
    return broker;
  }

  /**
   * A message the drone intake queued goes through aedes' routing too when a client other than
   * the hub subscribes to its topic (the telemetry service, the core), as aedes would have sent it.
   */
  private routed(topic: string): boolean {
    if (this.persistentFleetSubscriber) return true;
    let routed = this.routedCache.get(topic);
    if (routed === undefined) {
      // aedes' in-memory mqemitter matches with a qlobber trie; with another emitter, always route.
      const matcher = (this.aedes as unknown as { mq: { _matcher?: { match(topic: string): unknown[] } } }).mq._matcher;
      routed = !matcher || matcher.match(topic).some((h) => !this.localHandlers.has(h));
      this.routedCache.set(topic, routed);
    }
    return routed;
  }

  private route(client: Client, packet: ParsedPublish): void {
    this.taken.add(packet.payload);
    // aedes 1.x's publish(packet, client, done): the client names the sender (clientId, MQTT 5 no-local).
    (this.aedes as unknown as { publish(p: ParsedPublish, c: Client, done: () => void): void }).publish(packet, client, () => undefined);
  }

  private overLimit(client: Client, size: number, limits: ConnectionLimits): { code: HubErrorCode; log: boolean } | null {
    const now = performance.now();
    let b = this.buckets.get(client);
    if (!b) {
      b = { tokens: limits.burst, at: now, lastLog: -Infinity };
      this.buckets.set(client, b);
    }
    b.tokens = Math.min(limits.burst, b.tokens + ((now - b.at) / 1000) * limits.msgPerSec);
    b.at = now;
    let code: HubErrorCode | null = null;
    if (size > limits.maxPayloadBytes) code = 'HUB_ERR_TOO_LARGE';
    else if (b.tokens < 1) code = 'HUB_ERR_RATE';
    else b.tokens -= 1;
    if (!code) return null;
    const log = now - b.lastLog >= 1_000;
    if (log) b.lastLog = now;
    return { code, log };
  }

  get connections(): number {
    return this.aedes.connectedClients;
  }

  get port(): number {
    const addr = this.server.address();
    return typeof addr === 'object' && addr ? addr.port : 0;
  }

  /** Port of the WebSocket listener (0 when off). */
  get wsPort(): number {
    const addr = this.wsServer?.address();
    return typeof addr === 'object' && addr ? addr.port : 0;
  }

  /** Port of the mqtts listener (0 when off). */
  get tlsPort(): number {
    const addr = this.tlsServer?.address();
    return typeof addr === 'object' && addr ? addr.port : 0;
  }

  /**
   * In-process subscription: the hub's intake without a loopback MQTT hop (no encode, socket,
   * parse and PUBACK per message, which would cost as much as aedes itself). Not for retained
   * topics: aedes delivers no retained messages to in-process subscribers. Subscribed to the
   * fleet's statuses and events, it also gets them from drone-intake.ts, off the drones'
   * connections before aedes' publish path, and acknowledged only once `onMessage` returned.
   */
  async subscribeLocal(filters: readonly string[], onMessage: (topic: string, payload: Buffer) => void): Promise<void> {
    const deliver = (packet: { topic: string; payload: Buffer | string }, cb: () => void) => {
      // Already queued by the drone intake, routed for another subscriber.
      if (typeof packet.payload !== 'string' && this.taken.delete(packet.payload)) return cb();
      onMessage(packet.topic, typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload);
      cb();
    };
    this.localHandlers.add(deliver);
    this.routedCache.clear();
    if (filters.includes(subscriptions.allStatus) && filters.includes(subscriptions.allEvents)) this.intakeSink = onMessage;
    for (const f of filters) await new Promise<void>((resolve) => this.aedes.subscribe(f, deliver, resolve));
  }

  /** Drops a principal's live connection, so a revocation takes effect at once. */
  disconnect(principalId: string): void {
    this.liveClients.get(principalId)?.close();
  }

  /** Every listener accepts connections (readiness). */
  get listening(): boolean {
    return this.listenersClosed === null && [this.server, this.tlsServer, this.wsServer].every((s) => s === null || s.listening);
  }

  /**
   * Graceful stop, first step: no new connection on any listener, and the drones' connections
   * closed — their agents reconnect to another replica, or to this one once restarted, and send
   * again what was not acknowledged (everything acknowledged is already in the hub's queue). The
   * services stay connected for what the hub still publishes while it drains.
   */
  stopAccepting(): void {
    const servers = [this.server, this.tlsServer, this.wsServer].filter((s): s is Server => s !== null);
    this.listenersClosed ??= Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())))).then(() => undefined);
    for (const c of this.liveClients.values()) if (this.principals.get(c)?.role === 'drone') c.close();
  }

  async close(): Promise<void> {
    this.stopAccepting();
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
    const ws: (Server & { closeAllConnections?: () => void }) | null = this.wsServer;
    ws?.closeAllConnections?.();
    await this.listenersClosed;
  }
}

interface RetainedPersistence {
  storeRetained(packet: { topic: string; payload: Buffer | string; qos: 0 | 1 | 2 }): Promise<void>;
}

/**
 * Replays the durable retained messages into aedes' persistence before any listener opens.
 * Later retained PUBLISHes are made durable in authorizePublish (see there).
 */
async function replayRetained(aedes: Aedes, store: FileRetainedStore): Promise<void> {
  // aedes 1.x types leave `persistence` out of the class; it is the instance given to createBroker (memory by default).
  const persistence = (aedes as unknown as { persistence: RetainedPersistence }).persistence;
  for (const m of store.list()) {
    // No brokerId/brokerCounter: aedes gives retained packets fresh ones when it delivers them
    // (handlers/subscribe.js sendRetained).
    await persistence.storeRetained({ cmd: 'publish', topic: m.topic, payload: m.payload, qos: m.qos, retain: true, dup: false } as Parameters<RetainedPersistence['storeRetained']>[0]);
  }
}

async function listen(server: Server, port: number, host: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Subject CN of a client certificate the TLS layer verified against our CA, else null. */
function certificateName(client: Client): string | null {
  const conn: unknown = client.conn;
  if (!(conn instanceof TLSSocket) || !conn.authorized) return null;
  const cn = conn.getPeerCertificate().subject?.CN;
  return typeof cn === 'string' && cn.length > 0 ? cn : null;
}
