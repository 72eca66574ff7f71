import type { FastifyInstance } from 'fastify';
import type { Authenticator, Principal } from '../auth.js';
import { DeliveryError } from '../errors.js';
import type { AccountStore } from '../workflow/ports.js';
import { maySee } from './accounts-scope.js';
import { DRONE_ROLES } from './drones.js';

/**
 * The gateway's authentication subrequest (Gateway Offloading; nginx `auth_request`,
 * deploy/nginx/aerie.conf.template): telemetry has no accounts or keys of its own, so the
 * gateway asks the core, per request, whether the caller's bearer credential (API key or JWT,
 * the same Authenticator as /api/v1) may read the telemetry resource named in X-Original-URI.
 *
 * 204 with the principal in X-Aerie-Client-Id / X-Aerie-Role / X-Aerie-Account (nginx passes them
 * on to telemetry, overwriting any the client sent); 401 / 403 with the problem+json body and its
 * code also in X-Aerie-Problem-Code (nginx discards a subrequest's body and rebuilds the answer).
 *
 * Who reads what (the same lines as the core's own fleet view, routes/drones.ts):
 * - a drone's track or latest position, the fleet snapshot, the history routes: operators and
 *   admins only — where a drone flew is an operations view, not a customer's;
 * - a delivery's track: operators and admins, and the accounts that see that delivery
 *   (maySee: its owner, the owner's business). An unknown delivery is 403 for a scoped caller:
 *   whether it exists is not told to someone who could not read it.
 * Not under /api/v1 (no public route at the gateway, `location /` answers 404 there), so the
 * core's per-client bucket is not charged: the gateway's per-address limit covers these reads.
 */
export const GATEWAY_AUTH_PATH = '/internal/v1/gateway-auth';

const DRONE_VIEW = /^\/api\/v1\/(?:drones\/[^/?]+\/(?:track|latest)|fleet|history\/[^?]*)(?:\?.*)?$/;
const DELIVERY_TRACK = /^\/api\/v1\/deliveries\/([^/?]+)\/track(?:\?.*)?$/;

export interface GatewayAuthDeps {
  auth: Authenticator;
  store: AccountStore;
  /** The delivery's owner; undefined when there is no such delivery. */
  deliveryOwner(id: string): Promise<string | null | undefined>;
}

/** May `p` read the telemetry resource at `uri` (path and query as the client sent them)? Throws 403 if not. */
export async function authorizeTelemetry(deps: GatewayAuthDeps, p: Principal, uri: string): Promise<void> {
  if (DRONE_ROLES.includes(p.role)) {
    if (DRONE_VIEW.test(uri) || DELIVERY_TRACK.test(uri)) return;
  } else {
    const m = DELIVERY_TRACK.exec(uri);
    if (m) {
      let id: string;
      try {
        id = decodeURIComponent(m[1]!);
      } catch {
        throw new DeliveryError('DLV_ERR_FORBIDDEN', 403, 'malformed delivery id');
      }
      const owner = await deps.deliveryOwner(id);
      if (owner !== undefined && (await maySee(deps.store, p, owner))) return;
      throw new DeliveryError('DLV_ERR_FORBIDDEN', 403, `delivery ${id} is not one this account sees`);
    }
    if (DRONE_VIEW.test(uri)) throw new DeliveryError('DLV_ERR_ROLE_FORBIDDEN', 403, `role ${p.role} may not read drone telemetry (needs ${DRONE_ROLES.join(' or ')})`);
  }
  // A path the gateway does not send here: refused rather than guessed at.
  throw new DeliveryError('DLV_ERR_FORBIDDEN', 403, 'no telemetry resource at this path');
}

export function registerGatewayAuth(app: FastifyInstance, deps: GatewayAuthDeps): void {
  app.get(GATEWAY_AUTH_PATH, { config: { summary: 'internal: the gateway asks whether a request for telemetry may pass' } }, async (req, reply) => {
    try {
      // Auth off (no keys, no JWT: local runs, the demo): everything passes, as on /api/v1.
      if (!deps.auth.enabled) return await reply.code(204).send();
      const p = await deps.auth.authenticate(req.headers);
      const uri = req.headers['x-original-uri'];
      await authorizeTelemetry(deps, p, typeof uri === 'string' ? uri : '');
      return await reply.code(204).headers({
        'x-aerie-client-id': p.clientId, 'x-aerie-role': p.role, ...(p.account !== null ? { 'x-aerie-account': p.account } : {}),
      }).send();
    } catch (err) {
      // The code travels in a header too: nginx drops this body and answers from the header.
      if (err instanceof DeliveryError) void reply.header('x-aerie-problem-code', err.code);
      throw err;
    }
  });
}
