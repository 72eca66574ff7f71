import { createServer, type Server } from 'node:net';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { authorizePublish, authorizeSubscribe, type Principal } from '../domain/acl.js';
import type { DeviceRegistry } from './device-registry.js';
import type { HubErrorCode } from '../errors.js';

export interface Refusal {
  code: HubErrorCode;
  clientId: string;
  principal: string | null;
  topic: string | null;
}

export interface BrokerOptions {
  host: string;
  port: number;
  registry: DeviceRegistry;
  /** Principals that exist only in this process (the hub's own client). */
  internal: Map<string, { secret: string; principal: Principal }>;
  onRefusal: (r: Refusal) => void;
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
  private readonly liveClients = new Map<string, Client>();

  private constructor(private readonly aedes: Aedes, private readonly server: Server) {}

  static async start(opts: BrokerOptions): Promise<EmbeddedBroker> {
    let self: EmbeddedBroker | null = null;
    const aedes = await Aedes.createBroker({
      // aedes 1.x waits this long for a slow client's socket to drain before dropping it.
      drainTimeout: 5_000,
      authenticate: (client, username, password, done) => {
        const id = username ?? '';
        const secret = password?.toString('utf8') ?? '';
        const refuse = (code: HubErrorCode, rc: number) => {
          opts.onRefusal({ code, clientId: client.id, principal: id || null, topic: null });
          done(authError(rc, code), false);
        };
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
    const server = createServer(aedes.handle);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    self = new EmbeddedBroker(aedes, server);
    aedes.on('client', (c) => {
      const p = self?.principals.get(c);
      if (p) self?.liveClients.set(p.id, c);
    });
    aedes.on('clientDisconnect', (c) => {
      const p = self?.principals.get(c);
      if (p && self?.liveClients.get(p.id) === c) self.liveClients.delete(p.id);
    });
    return self;
  }

  get port(): number {
    const addr = this.server.address();
    return typeof addr === 'object' && addr ? addr.port : 0;
  }

  /** Drops a principal's live connection, so a revocation takes effect at once. */
  disconnect(principalId: string): void {
    this.liveClients.get(principalId)?.close();
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
