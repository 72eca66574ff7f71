import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DeliveryService } from '../service.js';
import type { Authenticator } from '../auth.js';
import type { Delivery } from '../domain/delivery.js';
import { DeliveryError } from '../errors.js';
import { streamDelivery } from '../sse.js';
import { validTrackingToken } from './token.js';

// The assets stay in src/ (tsc copies no files): from src/tracking-page/ and from
// dist/tracking-page/ alike, ../../src/tracking-page/assets/ is this folder's assets.
const ASSETS = fileURLToPath(new URL('../../src/tracking-page/assets/', import.meta.url));
const FILES = {
  'track.js': 'text/javascript; charset=utf-8',
  'track.css': 'text/css; charset=utf-8',
} as const;

/**
 * Nothing leaves the page's own origin: no tiles, no CDN (the map is drawn in SVG from the
 * coordinates), and no inline script, so an injected string cannot run.
 */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  // The token is in the URL: it must not travel on in a Referer.
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
} as const;

/** What the public sees: no owner, drone or correlation id, only where and when. */
function publicView(d: Delivery) {
  return {
    id: d.id, stage: d.stage, eta: d.eta === null ? null : new Date(d.eta).toISOString(), etaEpochMs: d.eta,
    lastPosition: d.lastPosition, pickup: d.pickup, dropoff: d.dropoff,
  };
}

interface TrackReq { Params: { id: string }; Querystring: { t?: string } }

/**
 * The customer's public tracking page, outside /api/v1 and its keys: the link returned with a
 * delivery carries an unguessable token (token.ts), so whoever holds the link — and only they —
 * sees that one delivery. A missing, wrong or other delivery's token answers exactly like an
 * unknown delivery (404 DLV_ERR_NOT_FOUND): the page is no oracle of which ids exist.
 * Rate-limited per client address with the API's bucket sizes.
 */
export function registerTrackingPage(app: FastifyInstance, service: DeliveryService, auth: Authenticator, idParams: object): void {
  const html = readFileSync(`${ASSETS}index.html`, 'utf8');
  const files = new Map(Object.entries(FILES).map(([name, type]) => [name, { body: readFileSync(`${ASSETS}${name}`, 'utf8'), type }]));
  const query = { type: 'object', properties: { t: { type: 'string', maxLength: 64 } } } as const;

  const authorised = async (req: FastifyRequest<TrackReq>) => {
    auth.charge(`ip:${req.ip}`);
    const refused = () => new DeliveryError('DLV_ERR_NOT_FOUND', 404, `no delivery ${req.params.id}`);
    if (!validTrackingToken(auth.trackingSecret, req.params.id, req.query.t)) throw refused();
    return service.get(req.params.id);
  };

  app.get<TrackReq>('/track/:id', { schema: { params: idParams, querystring: query } }, async (req, reply) => {
    await authorised(req);
    return reply.headers(SECURITY_HEADERS).type('text/html; charset=utf-8').send(html);
  });

  app.get<TrackReq>('/track/:id/events', { schema: { params: idParams, querystring: query } }, (req, reply) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) reply.raw.setHeader(k, v);
    return streamDelivery(reply, service, req.params.id, () => authorised(req), publicView);
  });

  // '_' cannot begin a delivery id (idParams), so these never shadow a delivery's page.
  app.get<{ Params: { name: string } }>('/track/_/:name', (req, reply) => {
    auth.charge(`ip:${req.ip}`);
    const f = files.get(req.params.name);
    if (!f) throw new DeliveryError('DLV_ERR_NOT_FOUND', 404, `no asset ${req.params.name}`);
    return reply.headers(SECURITY_HEADERS).header('cache-control', 'public, max-age=300').type(f.type).send(f.body);
  });
}
