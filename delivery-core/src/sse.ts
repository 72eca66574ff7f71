import type { FastifyInstance } from 'fastify';
import type { DeliveryService } from './service.js';
import type { Delivery, StageChange } from './domain/delivery.js';
import { FINAL_STAGES } from './domain/delivery.js';

const KEEPALIVE_MS = 15_000;

function frame(event: string, id: string | null, data: unknown): string {
  // WHATWG HTML §9.2 (server-sent events): one "data:" line per JSON line; JSON has none inside.
  return `event: ${event}\n${id ? `id: ${id}\n` : ''}data: ${JSON.stringify(data)}\n\n`;
}

function progress(d: Delivery) {
  return { id: d.id, stage: d.stage, droneId: d.droneId, eta: d.eta === null ? null : new Date(d.eta).toISOString(), lastPosition: d.lastPosition };
}

/**
 * `GET /api/v1/deliveries/{id}/events`: the delivery now (`snapshot`), then each stage change
 * (`stage`, with the change's event id as the SSE id) and each ETA/position refresh
 * (`progress`) until a final stage, when the stream ends.
 */
export function registerEvents(app: FastifyInstance, service: DeliveryService, idParams: object, find: (req: { params: { id: string } }) => Promise<Delivery>): void {
  app.get<{ Params: { id: string } }>('/api/v1/deliveries/:id/events', {
    schema: { params: idParams }, config: { summary: 'Live tracking as server-sent events (snapshot, stage, progress)' },
  }, async (req, reply) => {
    const delivery = await find(req);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive',
      'x-correlation-id': (req as { correlationId?: string }).correlationId ?? '',
    });
    res.write(frame('snapshot', null, progress(delivery)));
    if (FINAL_STAGES.has(delivery.stage)) {
      res.end();
      return;
    }
    const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
    keepalive.unref();
    const stop = service.watch(delivery.id, (d: Delivery, change: StageChange | null) => {
      res.write(change ? frame('stage', change.eventId, { ...progress(d), at: new Date(change.at).toISOString() }) : frame('progress', null, progress(d)));
      if (FINAL_STAGES.has(d.stage)) res.end();
    });
    res.on('close', () => {
      clearInterval(keepalive);
      stop();
    });
  });
}
