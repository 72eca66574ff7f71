import { createHash } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import { DeliveryError, DeliveryErrorCodes, type DeliveryErrorCode } from './errors.js';
import { newCorrelationId, type DeliveryService } from './service.js';
import { ACTIVE_STAGES, sameRequest, type Delivery, type DeliveryRequest, type DeliveryWindow, type StageChange } from './domain/delivery.js';
import { systemClock, type DeliveryStage } from '@aerie/contracts';
import { collectOpenApi } from './openapi.js';
import { endStreams, registerEvents } from './sse.js';
import { registerLiveness } from './health.js';
import { Authenticator, type Principal } from './auth.js';
import { forbidUnlessSees } from './routes/accounts-scope.js';
import { registerTrackingPage } from './tracking-page/routes.js';
import { registerDrones } from './routes/drones.js';
import { registerAccounts } from './routes/accounts.js';
import { registerPackages } from './routes/packages.js';
import { registerAssignment } from './routes/assignment.js';
import { registerGatewayAuth } from './routes/gateway-auth.js';
import { trackingPath } from './tracking-page/token.js';

const LatLonSchema = {
  type: 'object', additionalProperties: false, required: ['lat', 'lon'],
  properties: { lat: { type: 'number', minimum: -90, maximum: 90 }, lon: { type: 'number', minimum: -180, maximum: 180 } },
} as const;
const IdParams = {
  type: 'object', required: ['id'],
  // The id travels in MQTT topics: no '/', '+', '#' or whitespace.
  properties: { id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$' } },
} as const;
/** RFC 3339 date-time with its offset (ajv-formats "date-time"), e.g. 2026-12-03T10:00:00Z. */
const IsoTime = { type: 'string', format: 'date-time', maxLength: 64 } as const;
const PickupWindowSchema = {
  type: 'object', additionalProperties: false, minProperties: 1,
  description: 'When the package may be picked up: not before start, not after end (either may be left out)',
  properties: { start: IsoTime, end: IsoTime },
} as const;
const RequestBody = {
  type: 'object', additionalProperties: false, required: ['pickup', 'dropoff'],
  properties: {
    pickup: LatLonSchema, dropoff: LatLonSchema, owner: { type: 'string', minLength: 1, maxLength: 128 },
    pickupWindow: PickupWindowSchema, deadline: { ...IsoTime, description: 'The package is at the dropoff no later than this' },
  },
} as const;
/** PATCH: any of the request's places and times; null clears a window or deadline. */
const RescheduleBody = {
  type: 'object', additionalProperties: false, minProperties: 1,
  properties: {
    pickup: LatLonSchema, dropoff: LatLonSchema,
    pickupWindow: { ...PickupWindowSchema, type: ['object', 'null'] }, deadline: { ...IsoTime, type: ['string', 'null'] },
  },
} as const;

/**
 * The 202 body of a create: a status monitor, as the Asynchronous Request-Reply pattern (Azure
 * Architecture Center) and RFC 9110 §15.3.3 describe a 202 — the request's id, its stage now,
 * its correlation id and when it was accepted, the customer's tracking link — with the full
 * delivery at the Location header (GET). A repeat of an accepted request answers its stage now.
 */
const Accepted = {
  type: 'object', additionalProperties: false,
  required: ['id', 'stage', 'correlationId', 'createdAt', 'trackingUrl'],
  properties: {
    id: { type: 'string' }, stage: { type: 'string' }, correlationId: { type: 'string' }, createdAt: { type: 'string', format: 'date-time' },
    trackingUrl: { type: 'string', description: 'The public tracking page of this delivery (a capability link: keep it to the customer)' },
  },
} as const;

/** The `Accepted` body, as one JSON string (see `accept`). */
function acceptedJson(d: Delivery, trackingUrl: string): string {
  return JSON.stringify({ id: d.id, stage: d.stage, correlationId: d.correlationId, createdAt: new Date(d.createdAt).toISOString(), trackingUrl });
}

const STAGES = ['Requested', 'Scheduled', 'HeadedToPickup', 'PickedUp', 'HeadedToDropoff', 'Completed', 'Cancelled', 'Failed'];
const ListQuery = {
  type: 'object', additionalProperties: false,
  properties: {
    stage: { type: 'string', pattern: `^(${STAGES.join('|')})(,(${STAGES.join('|')}))*$` },
    owner: { type: 'string', minLength: 1, maxLength: 128 },
    from: { type: 'string', format: 'date-time' }, to: { type: 'string', format: 'date-time' },
    limit: { type: 'string', pattern: '^[1-9][0-9]{0,2}$' },
    cursor: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,400}$' },
  },
} as const;
interface ListQueryT { stage?: string; owner?: string; from?: string; to?: string; limit?: string; cursor?: string }

/** An opaque keyset cursor: the (createdAt, id) of the last item of the page. */
function encodeCursor(d: Delivery): string {
  return Buffer.from(JSON.stringify([d.createdAt, d.id])).toString('base64url');
}
function decodeCursor(c: string): { createdAt: number; id: string } {
  try {
    const v = JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && typeof v[0] === 'number' && typeof v[1] === 'string') return { createdAt: v[0], id: v[1] };
  } catch { /* falls through to the validation error */ }
  throw new DeliveryError('DLV_ERR_VALIDATION', 400, 'cursor is not one this API issued');
}

interface RequestBodyT {
  pickup: { lat: number; lon: number };
  dropoff: { lat: number; lon: number };
  owner?: string;
  pickupWindow?: { start?: string; end?: string };
  deadline?: string;
}
interface RescheduleBodyT {
  pickup?: RequestBodyT['pickup'];
  dropoff?: RequestBodyT['dropoff'];
  pickupWindow?: { start?: string; end?: string } | null;
  deadline?: string | null;
}

const msOf = (t: string | undefined | null): number | null => (t == null ? null : Date.parse(t));

/** The body's window as stored (epoch ms); undefined when the body names none. */
function windowOf(b: Pick<RequestBodyT, 'pickupWindow' | 'deadline'>): DeliveryWindow | undefined {
  if (!b.pickupWindow && b.deadline === undefined) return undefined;
  return { pickupFrom: msOf(b.pickupWindow?.start), pickupBy: msOf(b.pickupWindow?.end), deadline: msOf(b.deadline) };
}

const JSON_UTF8 = 'application/json; charset=utf-8';
const isoOrNull = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function problem(reply: FastifyReply, status: number, code: DeliveryErrorCode, detail: string) {
  return reply.code(status).type('application/problem+json').send({
    type: `https://aerie.dev/problems/${code}`, title: DeliveryErrorCodes[code], status, detail, code,
  });
}

export function view(d: Delivery, history?: StageChange[]) {
  return {
    id: d.id, owner: d.owner, stage: d.stage, droneId: d.droneId, pickup: d.pickup, dropoff: d.dropoff,
    pickupWindow: d.window.pickupFrom === null && d.window.pickupBy === null ? null : { start: isoOrNull(d.window.pickupFrom), end: isoOrNull(d.window.pickupBy) },
    deadline: isoOrNull(d.window.deadline),
    eta: d.eta === null ? null : new Date(d.eta).toISOString(), etaEpochMs: d.eta, lastPosition: d.lastPosition,
    correlationId: d.correlationId, createdAt: new Date(d.createdAt).toISOString(), updatedAt: new Date(d.updatedAt).toISOString(),
    failureReason: d.failureReason,
    // Completed: eta is the arrival; positive = later than promised (s).
    ...(d.stage === 'Completed' && d.eta !== null ? {
      etaErrorS: {
        atDispatch: d.etaAtDispatch === null ? null : (d.eta - d.etaAtDispatch) / 1000,
        atHalfway: d.etaAtHalfway === null ? null : (d.eta - d.etaAtHalfway) / 1000,
      },
    } : {}),
    ...(history ? { stageHistory: history.map((h) => ({ stage: h.stage, at: new Date(h.at).toISOString() })) } : {}),
  };
}

function correlationOf(req: object): string {
  return (req as { correlationId?: string }).correlationId ?? newCorrelationId();
}

/** The public REST API, versioned under /api/v1, errors as RFC 9457 problem+json. */
export function buildHttp(service: DeliveryService, auth: Authenticator = Authenticator.open(systemClock)): FastifyInstance {
  // removeAdditional off: an unknown field is a client error, not something to drop silently.
  // forceCloseConnections off: on close, requests in flight are answered (a 202 is never cut off
  // after the log has it) and idle keep-alive sockets closed; live SSE streams are ended below.
  // trustProxy: req.ip and req.protocol from X-Forwarded-* only when the TCP peer is the gateway.
  const trusted = service.config.trustedProxies;
  const app = Fastify({ logger: false, bodyLimit: 16 * 1024, forceCloseConnections: 'idle', trustProxy: trusted.length > 0 ? [...trusted] : false, ajv: { customOptions: { removeAdditional: false, coerceTypes: false } } });

  app.setErrorHandler((err: FastifyError, _req, reply) => {
    if (err instanceof DeliveryError) return problem(reply.headers(err.headers), err.status, err.code, err.message);
    if (err.validation) return problem(reply, 400, 'DLV_ERR_VALIDATION', err.message);
    if (err.statusCode && err.statusCode < 500) return problem(reply, err.statusCode, 'DLV_ERR_VALIDATION', err.message);
    return problem(reply, 500, 'DLV_ERR_INTERNAL', 'internal error');
  });
  app.setNotFoundHandler((req, reply) => problem(reply, 404, 'DLV_ERR_NOT_FOUND', `no route ${req.method} ${req.url}`));

  app.addHook('onRequest', (req, reply, done) => {
    const given = req.headers['x-correlation-id'];
    const id = typeof given === 'string' && /^[\w.-]{1,128}$/.test(given) ? given : newCorrelationId();
    (req as { correlationId?: string }).correlationId = id;
    void reply.header('x-correlation-id', id);
    done();
  });

  // Every /api/v1 route, whatever it is, is authenticated and rate-limited here, before routing.
  app.addHook('onRequest', async (req) => {
    if (!auth.enabled || !req.url.startsWith('/api/v1/')) return;
    const p = await auth.authenticate(req.headers);
    auth.charge(p.clientId, auth.limitOf(p));
    (req as { principal?: Principal }).principal = p;
  });
  const principal = (req: object) => (req as { principal?: Principal }).principal ?? null;
  /** A customer or business key creates for its own account only. */
  // Scoping as for accounts and packages (routes/accounts-scope.ts): a customer its own account,
  // a business its own and its customers', operators and admins all.
  const ownedBody = async (req: { body: RequestBodyT }): Promise<RequestBodyT> => {
    const p = principal(req);
    if (!p?.account) return req.body;
    const owner = req.body.owner ?? p.account;
    await forbidUnlessSees(service.records, p, owner, `account ${owner}`);
    return { ...req.body, owner };
  };
  const visible = async (req: { params: { id: string } }) => {
    const found = await service.get(req.params.id);
    await forbidUnlessSees(service.records, principal(req), found.delivery.owner, `delivery ${found.delivery.id}`);
    return found;
  };

  const openApi = collectOpenApi(app);
  registerLiveness(app);
  // Graceful close (issue 8): a response sent from now on closes its keep-alive connection, a
  // request arriving on one is refused by fastify (503, return503OnClosing), and the event
  // streams end (EventSource clients reconnect, to another instance behind the gateway).
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    endStreams(service);
    done();
  });
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (closing) void reply.header('connection', 'close');
    done(null, payload);
  });
  app.get('/api/docs', () => openApi());

  const accept = async (reply: FastifyReply, id: string, body: RequestBodyT, correlationId: string) => {
    const window = windowOf(body);
    const request: DeliveryRequest = { pickup: body.pickup, dropoff: body.dropoff, owner: body.owner ?? null, ...(window ? { window } : {}) };
    const bad = window ? service.windowProblem(window, body.pickup, body.dropoff) : null;
    // A window that has since passed still answers a retry of the request that was accepted with it.
    if (bad && !(await service.get(id).then(({ delivery }) => sameRequest(delivery, request), () => false))) {
      throw new DeliveryError(bad.code, bad.code === 'DLV_ERR_WINDOW_INVALID' ? 400 : 422, bad.detail);
    }
    const { delivery } = await service.requestDurable(id, request, correlationId);
    // 202 once durable: the group commit holding this row has been fsynced; scheduling happens
    // from the table at the scheduler's own pace (load levelling). The body (the `Accepted`
    // schema) leaves as one JSON string: fastify sends a string with a JSON content type as it
    // is, header and body in one write — the create is bench:api's hot path.
    return reply.code(202).header('location', `/api/v1/deliveries/${encodeURIComponent(delivery.id)}`).type(JSON_UTF8)
      .send(acceptedJson(delivery, trackingPath(auth.trackingSecret, delivery.id)));
  };

  app.put<{ Params: { id: string }; Body: RequestBodyT }>('/api/v1/deliveries/:id', {
    schema: { params: IdParams, body: RequestBody, response: { 202: Accepted } }, config: { summary: 'Create a delivery (idempotent: the same id and body answer the same)' },
  }, async (req, reply) => accept(reply, req.params.id, principal(req)?.account ? await ownedBody(req) : req.body, correlationOf(req)));

  // draft-ietf-httpapi-idempotency-key-header: the key names the request; a retry with the same
  // key and body gets the same delivery, the same key with another body is a 422.
  app.post<{ Body: RequestBodyT }>('/api/v1/deliveries', {
    schema: { body: RequestBody, response: { 202: Accepted } }, config: { summary: 'Create a delivery under an Idempotency-Key header' },
  }, async (req, reply) => {
    const key = req.headers['idempotency-key'];
    if (typeof key !== 'string' || key.length === 0 || key.length > 255) throw new DeliveryError('DLV_ERR_IDEMPOTENCY_KEY_MISSING', 400);
    const body = await ownedBody(req);
    const id = `ik-${createHash('sha256').update(`${body.owner ?? ''}\n${key}`).digest('hex').slice(0, 40)}`;
    try {
      return await accept(reply, id, body, correlationOf(req));
    } catch (err) {
      if (err instanceof DeliveryError && err.code === 'DLV_ERR_ID_CONFLICT') throw new DeliveryError('DLV_ERR_IDEMPOTENCY_KEY_REUSED', 422);
      throw err;
    }
  });

  app.get<{ Querystring: ListQueryT }>('/api/v1/deliveries', {
    schema: { querystring: ListQuery }, config: { summary: 'List deliveries, oldest first, filtered, with a cursor' },
  }, async (req) => {
    const q = req.query;
    const p = principal(req);
    if (p?.account) {
      // Without a filter, its own account; a business names a customer's with ?owner=.
      q.owner ??= p.account;
      await forbidUnlessSees(service.records, p, q.owner, `account ${q.owner}`);
    }
    const limit = Number(q.limit ?? 50);
    const items = await service.list({
      ...(q.stage ? { stages: q.stage.split(',') as DeliveryStage[] } : {}), ...(q.owner ? { owner: q.owner } : {}),
      ...(q.from ? { from: Date.parse(q.from) } : {}), ...(q.to ? { to: Date.parse(q.to) } : {}),
      ...(q.cursor ? { after: decodeCursor(q.cursor) } : {}),
    }, limit);
    return { items: items.map((d) => view(d)), nextCursor: items.length === limit ? encodeCursor(items.at(-1)!) : null };
  });

  app.get<{ Params: { id: string } }>('/api/v1/deliveries/:id', { schema: { params: IdParams }, config: { summary: 'One delivery with its stage history' } }, async (req) => {
    const { delivery, history } = await visible(req);
    return { ...view(delivery, history), trackingUrl: trackingPath(auth.trackingSecret, delivery.id) };
  });

  registerEvents(app, service, IdParams, visible);
  registerTrackingPage(app, service, auth, IdParams);
  registerAssignment(app, IdParams, { explanation: (id) => service.explanations.get(id) ?? null, find: visible, principal });
  registerAccounts(app, { store: service.records, clock: service.clock, principal });
  /** A delivery's owner, undefined when there is no such delivery (packages and the gateway's auth check). */
  const deliveryOwner = async (id: string): Promise<string | null | undefined> => {
    try {
      return (await service.get(id)).delivery.owner;
    } catch (err) {
      if (err instanceof DeliveryError && err.code === 'DLV_ERR_NOT_FOUND') return undefined;
      throw err;
    }
  };
  registerPackages(app, {
    store: service.records, clock: service.clock, principal,
    deliveryOwner,
  });
  // The gateway's auth_request for telemetry's routes (routes/gateway-auth.ts).
  registerGatewayAuth(app, {
    auth, store: service.records,
    deliveryOwner,
  });
  registerDrones(app, {
    registry: service.config.drones, airframe: service.config.airframe, policy: service.config.assignment, clock: service.clock,
    statuses: () => service.droneStatuses(), active: () => service.list({ stages: ACTIVE_STAGES }, 100_000), principal,
  });

  app.patch<{ Params: { id: string }; Body: RescheduleBodyT }>('/api/v1/deliveries/:id', {
    schema: { params: IdParams, body: RescheduleBody },
    config: { summary: 'Reschedule: a new pickup, dropoff, pickup window or deadline before the drone takes off (a Scheduled delivery is re-planned)' },
  }, async (req) => {
    await visible(req);
    await service.materialize(req.params.id);
    const { pickup, dropoff, pickupWindow, deadline } = req.body;
    return view(await service.reschedule(req.params.id, {
      ...(pickup ? { pickup } : {}), ...(dropoff ? { dropoff } : {}),
      ...(pickupWindow !== undefined || deadline !== undefined ? {
        window: {
          ...(pickupWindow !== undefined ? { pickupFrom: msOf(pickupWindow?.start), pickupBy: msOf(pickupWindow?.end) } : {}),
          ...(deadline !== undefined ? { deadline: msOf(deadline) } : {}),
        },
      } : {}),
    }));
  });

  app.delete<{ Params: { id: string } }>('/api/v1/deliveries/:id', { schema: { params: IdParams }, config: { summary: 'Cancel before pickup' } }, async (req, reply) => {
    await visible(req);
    await service.materialize(req.params.id);
    return reply.code(202).send(view(await service.cancel(req.params.id)));
  });

  return app;
}
