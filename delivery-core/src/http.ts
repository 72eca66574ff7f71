import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import { DeliveryError, DeliveryErrorCodes, type DeliveryErrorCode } from './errors.js';
import { newCorrelationId, type DeliveryService } from './service.js';
import type { Delivery, StageChange } from './domain/delivery.js';

const LatLonSchema = {
  type: 'object', additionalProperties: false, required: ['lat', 'lon'],
  properties: { lat: { type: 'number', minimum: -90, maximum: 90 }, lon: { type: 'number', minimum: -180, maximum: 180 } },
} as const;
const IdParams = {
  type: 'object', required: ['id'],
  // The id travels in MQTT topics: no '/', '+', '#' or whitespace.
  properties: { id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$' } },
} as const;
const RequestBody = {
  type: 'object', additionalProperties: false, required: ['pickup', 'dropoff'],
  properties: { pickup: LatLonSchema, dropoff: LatLonSchema, owner: { type: 'string', minLength: 1, maxLength: 128 } },
} as const;

interface RequestBodyT {
  pickup: { lat: number; lon: number };
  dropoff: { lat: number; lon: number };
  owner?: string;
}

function problem(reply: FastifyReply, status: number, code: DeliveryErrorCode, detail: string) {
  return reply.code(status).type('application/problem+json').send({
    type: `https://aerie.dev/problems/${code}`, title: DeliveryErrorCodes[code], status, detail, code,
  });
}

export function view(d: Delivery, history?: StageChange[]) {
  return {
    id: d.id, owner: d.owner, stage: d.stage, droneId: d.droneId, pickup: d.pickup, dropoff: d.dropoff,
    eta: d.eta === null ? null : new Date(d.eta).toISOString(), etaEpochMs: d.eta, lastPosition: d.lastPosition,
    correlationId: d.correlationId, createdAt: new Date(d.createdAt).toISOString(), updatedAt: new Date(d.updatedAt).toISOString(),
    failureReason: d.failureReason,
    ...(history ? { stageHistory: history.map((h) => ({ stage: h.stage, at: new Date(h.at).toISOString() })) } : {}),
  };
}

/** The public REST API, versioned under /api/v1, errors as RFC 9457 problem+json. */
export function buildHttp(service: DeliveryService): FastifyInstance {
  // removeAdditional off: an unknown field is a client error, not something to drop silently.
  const app = Fastify({ logger: false, bodyLimit: 16 * 1024, ajv: { customOptions: { removeAdditional: false, coerceTypes: false } } });

  app.setErrorHandler((err: FastifyError, _req, reply) => {
    if (err instanceof DeliveryError) return problem(reply, err.status, err.code, err.message);
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

  app.get('/healthz', () => ({ ok: true }));

  app.put<{ Params: { id: string }; Body: RequestBodyT }>('/api/v1/deliveries/:id', { schema: { params: IdParams, body: RequestBody } }, (req, reply) => {
    const correlationId = (req as { correlationId?: string }).correlationId ?? newCorrelationId();
    const { delivery } = service.request(req.params.id, { pickup: req.body.pickup, dropoff: req.body.dropoff, owner: req.body.owner ?? null }, correlationId);
    // 202 once durable: the row is committed; scheduling happens from the table at its own pace.
    return reply.code(202).header('location', `/api/v1/deliveries/${encodeURIComponent(delivery.id)}`).send(view(delivery));
  });

  app.get<{ Params: { id: string } }>('/api/v1/deliveries/:id', { schema: { params: IdParams } }, (req) => {
    const { delivery, history } = service.get(req.params.id);
    return view(delivery, history);
  });

  app.delete<{ Params: { id: string } }>('/api/v1/deliveries/:id', { schema: { params: IdParams } }, (req, reply) => {
    return reply.code(202).send(view(service.cancel(req.params.id)));
  });

  return app;
}
