import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { DeliveryService } from './service.js';
import type { Delivery, StageChange } from './domain/delivery.js';
import { FINAL_STAGES } from './domain/delivery.js';

const KEEPALIVE_MS = 15_000;

function frame(event: string, id: string | null, data: unknown): string {
  // WHATWG HTML §9.2 (server-sent events): one "data:" line per JSON line; JSON has none inside.
  return `event: ${event}\n${id ? `id: ${id}\n` : ''}data: ${JSON.stringify(data)}\n\n`;
}

/** The live streams of each service, ended when its server closes (endStreams). */
const open = new WeakMap<DeliveryService, Set<ServerResponse>>();

/** Ends every live stream of `service` (graceful shutdown: they would hold the server open). */
export function endStreams(service: DeliveryService): void {
  for (const res of open.get(service) ?? []) if (!res.writableEnded) res.end();
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

type Found = { delivery: Delivery; history: StageChange[] };
type Listener = (d: Delivery, change: StageChange | null) => void;

// Final stages rank above every active one: a change is news to a snapshot only if it ranks higher.
const RANK: readonly string[] = ['Requested', 'Scheduled', 'HeadedToPickup', 'PickedUp', 'HeadedToDropoff', 'Completed', 'Cancelled', 'Failed'];
const rank = (stage: string) => Math.min(RANK.indexOf(stage), 5);

/**
 * Streams one delivery on a hijacked reply: the delivery now (`snapshot`, with its stage
 * history), then each stage change (`stage`, the change's event id as the SSE id) and each
 * ETA/position refresh (`progress`) until a final stage, when the stream ends. It listens
 * before `load` reads the delivery, so a change committed during the read is not lost (a lost
 * final stage would leave the stream open for ever); of those, only changes past the snapshot
 * are sent. `load` also authorises: when it throws, nothing has been sent.
 */
export async function streamDelivery(reply: FastifyReply, service: DeliveryService, id: string, load: () => Promise<Found>, project: Projection = progress): Promise<void> {
  const early: [Delivery, StageChange | null][] = [];
  let send: Listener | null = null;
  const stop = service.watch(id, (d, change) => (send ? send(d, change) : early.push([d, change])));
  let found: Found;
  try {
    found = await load();
  } catch (err) {
    stop();
    throw err;
  }
  const { delivery, history } = found;
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive',
    'x-correlation-id': (reply.request as { correlationId?: string }).correlationId ?? '',
  });
  // serverTime: the core's clock, so a client counts down to the ETA on it, not on its own.
  const now = () => iso(service.clock.now());
  res.write(frame('snapshot', null, { ...project(delivery), serverTime: now(), history: history.map((h) => ({ stage: h.stage, at: iso(h.at) })) }));
  if (FINAL_STAGES.has(delivery.stage)) {
    stop();
    res.end();
    return;
  }
  const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
  keepalive.unref();
  let streams = open.get(service);
  if (!streams) open.set(service, (streams = new Set()));
  streams.add(res);
  res.on('close', () => {
    clearInterval(keepalive);
    stop();
    streams.delete(res);
  });
  send = (d, change) => {
    if (res.writableEnded) return;
    res.write(change ? frame('stage', change.eventId, { ...project(d), serverTime: now(), at: iso(change.at) }) : frame('progress', null, { ...project(d), serverTime: now() }));
    if (FINAL_STAGES.has(d.stage)) res.end();
  };
  for (const [d, change] of early) if (rank(d.stage) > rank(delivery.stage)) send(d, change);
}

/** `GET /api/v1/deliveries/{id}/events`: live tracking for API clients (auth as every /api/v1 route). */
export function registerEvents(
  app: FastifyInstance, service: DeliveryService, idParams: object,
  find: (req: { params: { id: string } }) => Promise<{ delivery: Delivery; history: StageChange[] }>,
): void {
  app.get<{ Params: { id: string } }>('/api/v1/deliveries/:id/events', {
    schema: { params: idParams }, config: { summary: 'Live tracking as server-sent events (snapshot, stage, progress: stage, position, ETA)' },
  }, (req, reply) => streamDelivery(reply, service, req.params.id, () => find(req)));
}
