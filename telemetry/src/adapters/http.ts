import Fastify from 'fastify';
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { DroneId, systemClock } from '@aerie/contracts';
import type { Clock } from '@aerie/contracts';
import { TelemetryError, TelemetryErrorCodes } from '../errors.js';
import type { TelemetryErrorCode } from '../errors.js';
import { resolveTrackQuery, TRACK_QUERY } from '../domain/track-query.js';
import type { Logger, TelemetryStore } from '../ports.js';

export interface HttpApiOptions {
  store: TelemetryStore;
  logger: Logger;
  clock?: Clock;
  /** extra fields for GET /healthz, e.g. ingest counters */
  health?: () => Record<string, unknown>;
  /** GET /readyz: each check 'ok' or what is wrong (app.ts); without it, /readyz answers as /livez */
  readiness?: () => Promise<Record<string, string>>;
  /** peers whose X-Forwarded-For/-Proto are believed (the gateway); none by default */
  trustedProxies?: readonly string[];
}

/** RFC 9457 problem details, with the stable code as an extension member (§3.2). */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: TelemetryErrorCode;
}

const PROBLEM_TYPE_BASE = 'https://aerie.dev/problems/';
const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

export function problemOf(code: TelemetryErrorCode, detail: string): Problem {
  const { status, title } = TelemetryErrorCodes[code];
  return { type: `${PROBLEM_TYPE_BASE}${code}`, title, status, detail, code };
}

const droneParams = {
  type: 'object',
  properties: { droneId: { ...DroneId } },
  required: ['droneId'],
} as const;

const trackPoint = {
  type: 'object',
  properties: {
    ts: { type: 'integer' },
    lat: { type: 'number' },
    lon: { type: 'number' },
    altMsl: { type: 'number' },
    altRel: { type: 'number' },
    groundSpeed: { type: 'number' },
    heading: { type: 'number' },
    batteryPct: { type: ['number', 'null'] },
    flightMode: { type: 'string' },
    landedState: { type: 'string' },
    armed: { type: 'boolean' },
  },
  required: ['ts', 'lat', 'lon', 'altMsl', 'altRel', 'groundSpeed', 'heading', 'batteryPct', 'flightMode', 'landedState', 'armed'],
} as const;

interface TrackRoute {
  Params: { droneId: string };
  Querystring: { from?: string; to?: string; limit?: number };
}

/** The history API, not yet listening: tests use inject(), app.ts calls listen(). */
export function buildHttpApi(opts: HttpApiOptions): FastifyInstance {
  const { store, logger } = opts;
  const clock = opts.clock ?? systemClock;
  // req.ip is the X-Forwarded-For client only when the TCP peer is a trusted proxy (the gateway).
  const trusted = opts.trustedProxies ?? [];
  const app = Fastify({ logger: false, trustProxy: trusted.length > 0 ? [...trusted] : false });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err.validation !== undefined) {
      const first = err.validation[0];
      const field = `${err.validationContext ?? 'request'}${first?.instancePath ?? ''}`;
      return sendProblem(reply, problemOf(validationCode(field), `${field} ${first?.message ?? 'is invalid'}`));
    }
    if (err instanceof TelemetryError) {
      if (err.status >= 500) logger.error(`telemetry http ${req.method} ${req.url} client=${req.ip} code=${err.code} detail=${JSON.stringify(err.message)}`);
      return sendProblem(reply, problemOf(err.code, err.message));
    }
    const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
    if (status < 500) return sendProblem(reply, { ...problemOf('TEL_ERR_BAD_REQUEST', err.message), status });
    // A driver's message (SQLite, fastify internals) goes to the log, never to the client.
    logger.error(`telemetry http ${req.method} ${req.url} client=${req.ip} code=TEL_ERR_INTERNAL error=${JSON.stringify(`${err.name}: ${err.message}`)}`);
    return sendProblem(reply, problemOf('TEL_ERR_INTERNAL', 'The request could not be completed; the server log has the cause.'));
  });

  app.setNotFoundHandler((req, reply) =>
    sendProblem(reply, problemOf('TEL_ERR_NOT_FOUND', `${req.method} ${req.url.split('?')[0] ?? ''} is not a telemetry resource`)),
  );

  app.get<TrackRoute>(
    '/api/v1/drones/:droneId/track',
    {
      schema: {
        params: droneParams,
        querystring: {
          type: 'object',
          properties: {
            from: { type: 'string', maxLength: 64 },
            to: { type: 'string', maxLength: 64 },
            limit: { type: 'integer', minimum: 1, maximum: TRACK_QUERY.maxLimit },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              droneId: { type: 'string' },
              from: { type: 'integer' },
              to: { type: 'integer' },
              points: { type: 'array', items: trackPoint },
            },
            required: ['droneId', 'from', 'to', 'points'],
          },
        },
      },
    },
    async (req, reply) => {
      const { droneId } = req.params;
      const q = resolveTrackQuery(req.query, clock.now());
      if (!q.ok) return sendProblem(reply, problemOf(q.code, q.detail));
      return { droneId, from: q.from, to: q.to, points: store.track(droneId, q.from, q.to, q.limit) };
    },
  );

  app.get<{ Params: { droneId: string } }>(
    '/api/v1/drones/:droneId/latest',
    {
      schema: {
        params: droneParams,
        response: {
          200: { type: 'object', properties: { droneId: { type: 'string' }, point: trackPoint }, required: ['droneId', 'point'] },
        },
      },
    },
    async (req, reply) => {
      const { droneId } = req.params;
      const point = store.latest(droneId);
      if (point === null) return sendProblem(reply, problemOf('TEL_ERR_NO_DATA', `no positioned status stored for drone ${droneId}`));
      return { droneId, point };
    },
  );

  app.get('/healthz', (_req, reply) => reply.send({ status: 'ok', ...opts.health?.() }));
  // Issue 8, Kubernetes' two probes: liveness checks nothing outside the process (a database
  // blip must not restart the pod), readiness its dependencies and not while shutting down.
  app.get('/livez', (_req, reply) => reply.send({ status: 'alive' }));
  app.get('/readyz', async (_req, reply) => {
    const checks = (await opts.readiness?.()) ?? {};
    const ready = Object.values(checks).every((c) => c === 'ok');
    return reply.code(ready ? 200 : 503).header('cache-control', 'no-store').send({ status: ready ? 'ready' : 'not_ready', checks });
  });

  return app;
}

function validationCode(field: string): TelemetryErrorCode {
  if (field.startsWith('params')) return 'TEL_ERR_BAD_DRONE_ID';
  if (field === 'querystring/limit') return 'TEL_ERR_BAD_LIMIT';
  if (field === 'querystring/from' || field === 'querystring/to') return 'TEL_ERR_BAD_TIME';
  return 'TEL_ERR_BAD_REQUEST';
}

function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem);
}
