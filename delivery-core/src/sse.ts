import type { FastifyInstance, FastifyReply } from 'fastify';
import type { DeliveryService } from './service.js';
import type { Delivery, StageChange } from './domain/delivery.js';
import { FINAL_STAGES } from './domain/delivery.js';

const KEEPALIVE_MS = 15_000;

function frame(event: string, id: string | null, data: unknown): string {
  // WHATWG HTML §9.2 (server-sent events): one "data:" line per JSON line; JSON has none inside.
  return `event: ${event}\n${id ? `id: ${id}\n` : ''}data: ${JSON.stringify(data)}\n\n`;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** What every frame carries: stage, ETA (ISO 8601 and epoch ms), last position, and the two places. */
export function progress(d: Delivery) {
  return {
    id: d.id, stage: d.stage, droneId: d.droneId, eta: iso(d.eta), etaEpochMs: d.eta, lastPosition: d.lastPosition,
    pickup: d.pickup, dropoff: d.dropoff,
  };
}

export type Projection = (d: Delivery) => Record<string, unknown>;

/**
 * Streams one delivery on a hijacked reply: the delivery now (`snapshot`, with its stage
 * history), then each stage change (`stage`, the change's event id as the SSE id) and each
 * ETA/position refresh (`progress`) until a final stage, when the stream ends.
 */
export function streamDelivery(reply: FastifyReply, service: DeliveryService, delivery: Delivery, history: readonly StageChange[], project: Projection = progress): void {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive',
    'x-correlation-id': (reply.request as { correlationId?: string }).correlationId ?? '',
  });
  res.write(frame('snapshot', null, { ...project(delivery), history: history.map((h) => ({ stage: h.stage, at: iso(h.at) })) }));
  if (FINAL_STAGES.has(delivery.stage)) {
    res.end();
    return;
  }
  const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
  keepalive.unref();
  const stop = service.watch(delivery.id, (d: Delivery, change: StageChange | null) => {
    res.write(change ? frame('stage', change.eventId, { ...project(d), at: iso(change.at) }) : frame('progress', null, project(d)));
    if (FINAL_STAGES.has(d.stage)) res.end();
  });
  res.on('close', () => {
    clearInterval(keepalive);
    stop();
  });
}

/** `GET /api/v1/deliveries/{id}/events`: live tracking for API clients (auth as every /api/v1 route). */
export function registerEvents(
  app: FastifyInstance, service: DeliveryService, idParams: object,
  find: (req: { params: { id: string } }) => Promise<{ delivery: Delivery; history: StageChange[] }>,
): void {
  app.get<{ Params: { id: string } }>('/api/v1/deliveries/:id/events', {
    schema: { params: idParams }, config: { summary: 'Live tracking as server-sent events (snapshot, stage, progress: stage, position, ETA)' },
  }, async (req, reply) => {
    const { delivery, history } = await find(req);
    streamDelivery(reply, service, delivery, history);
  });
}
