import type { FastifyInstance } from 'fastify';
import { DroneId } from '@aerie/contracts';
import type { Clock } from '@aerie/contracts';
import { parseInstant } from '../domain/time.js';
import { resolveTrackQuery, TRACK_QUERY } from '../domain/track-query.js';
import { TelemetryError } from '../errors.js';
import type { HistoryReader } from '../ports.js';

/** How far back GET /api/v1/fleet looks for a drone's newest status (a drone silent longer is absent). */
export const FLEET_LOOKBACK_MS = 5 * 60_000;

/**
 * The history API over the time-series store, whichever it is (HistoryReader): a drone's track,
 * a delivery's track, the fleet at an instant. Errors go through buildHttpApi's problem+json handler.
 */
export function registerHistoryRoutes(app: FastifyInstance, history: HistoryReader, clock: Clock): void {
  app.get<{ Params: { droneId: string }; Querystring: { from?: string; to?: string; limit?: number } }>(
    '/api/v1/history/drones/:droneId/track',
    {
      schema: {
        params: { type: 'object', properties: { droneId: { ...DroneId } }, required: ['droneId'] },
        querystring: {
          type: 'object',
          properties: { from: { type: 'string', maxLength: 64 }, to: { type: 'string', maxLength: 64 }, limit: { type: 'integer', minimum: 1, maximum: TRACK_QUERY.maxLimit } },
        },
      },
    },
    async (req) => {
      const q = resolveTrackQuery(req.query, clock.now());
      if (!q.ok) throw new TelemetryError(q.code, q.detail);
      const { droneId } = req.params;
      return { droneId, source: history.kind, from: q.from, to: q.to, points: await history.droneTrack(droneId, q.from, q.to, q.limit) };
    },
  );

  app.get<{ Params: { deliveryId: string }; Querystring: { limit?: number } }>(
    '/api/v1/deliveries/:deliveryId/track',
    {
      schema: {
        params: { type: 'object', properties: { deliveryId: { type: 'string', minLength: 1, maxLength: 128 } }, required: ['deliveryId'] },
        querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: TRACK_QUERY.maxLimit } } },
      },
    },
    async (req) => {
      const track = await history.deliveryTrack(req.params.deliveryId, clock.now(), req.query.limit ?? TRACK_QUERY.maxLimit);
      if (track === null) throw new TelemetryError('TEL_ERR_NO_DATA', `no delivery events stored for delivery ${req.params.deliveryId}`);
      return { source: history.kind, ...track };
    },
  );

  app.get<{ Querystring: { at?: string } }>(
    '/api/v1/fleet',
    { schema: { querystring: { type: 'object', properties: { at: { type: 'string', maxLength: 64 } } } } },
    async (req) => {
      const at = req.query.at === undefined ? clock.now() : parseInstant(req.query.at);
      if (at === null) throw new TelemetryError('TEL_ERR_BAD_TIME', 'at is not epoch milliseconds or an ISO 8601 date-time');
      return { at, source: history.kind, lookbackMs: FLEET_LOOKBACK_MS, drones: await history.fleetAt(at, FLEET_LOOKBACK_MS) };
    },
  );
}
