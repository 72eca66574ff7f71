import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { DeliveryTracking } from '@aerie/contracts';
import { DeliveryService, MemoryFleetLink, buildHttp, coreConfig } from '../src/index.js';
import { droneStatus } from '../../test-support/fixtures.js';
import { until } from '../../test-support/until.js';
import { httpStores, stopCore, type OpenStore } from './http-stores.js';

let now = 1_700_000_000_000;
const clock = { now: () => now, setTimeout: () => 0, clearTimeout: () => undefined, setInterval: () => 0, clearInterval: () => undefined };
const body = { pickup: { lat: 47.399, lon: 8.547 }, dropoff: { lat: 47.401, lon: 8.55 } };
let fleet: MemoryFleetLink;
let service: DeliveryService;
let app: FastifyInstance;
let base: string;
let store: OpenStore;
// Issue 7: the same suite on memory, a SQLite file and Debian's PostgreSQL (a database per test).
const stores = httpStores(['memory', 'sqlite', 'postgres']);

function tracking(stage: DeliveryTracking['stage'], type: DeliveryTracking['type'], eventId: string): DeliveryTracking {
  return { v: 1, eventId, type, deliveryId: 'd1', droneId: 'drone-001', stage, ts: now, location: { lat: 47.4, lon: 8.548, altRel: 30 }, eta: null };
}

/** Reads an SSE stream over a real socket into parsed { event, id, data } frames. */
async function collect(url: string, frames: { event: string; id: string | null; data: Record<string, unknown> }[]): Promise<void> {
  const res = await fetch(url);
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  let buf = '';
  const decoder = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    let cut: number;
    while ((cut = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      const field = (name: string) => block.split('\n').find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2) ?? null;
      const data = field('data');
      if (data) frames.push({ event: field('event')!, id: field('id'), data: JSON.parse(data) as Record<string, unknown> });
    }
  }
}

describe.each(['memory', 'sqlite', 'postgres'] as const)('live tracking over server-sent events on %s', (kind) => {
  beforeEach(async () => {
    fleet = new MemoryFleetLink();
    store = await stores.fresh(kind);
    service = new DeliveryService(store.repo, fleet, coreConfig({ dbPath: ':memory:', scheduling: { holdMs: 0 } }), clock, store.records);
    app = buildHttp(service);
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterEach(() => stopCore(service, app, store));

  it('streams the snapshot, each stage, ETA refreshes, and ends at a final stage', async () => {
    fleet.pushStatus(droneStatus({ droneId: 'drone-001', ts: now }));
    await fetch(`${base}/api/v1/deliveries/d1`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const frames: { event: string; id: string | null; data: Record<string, unknown> }[] = [];
    const done = collect(`${base}/api/v1/deliveries/d1/events`, frames);
    await until(() => frames.length === 1, 'snapshot');
    await service.schedulePending();
    fleet.pushTracking(tracking('HeadedToPickup', 'DeliveryHeadedToPickup', 'e1'));
    await service.settled();
    now += 5000;
    fleet.pushStatus(droneStatus({ droneId: 'drone-001', seq: 1, ts: now, armed: true, landedState: 'IN_AIR', position: { lat: 47.3995, lon: 8.5472, altMsl: 518, altRel: 30 } }));
    await service.refreshEtas();
    fleet.pushTracking(tracking('Completed', 'DeliveryCompleted', 'e2'));
    await done;
    expect(frames.map((f) => f.event)).toEqual(['snapshot', 'stage', 'stage', 'progress', 'stage']);
    expect(frames.map((f) => f.data.stage)).toEqual(['Requested', 'Scheduled', 'HeadedToPickup', 'HeadedToPickup', 'Completed']);
    expect(frames[2]!.id).toBe('e1');
    expect(frames[3]!.data).toMatchObject({ lastPosition: { lat: 47.3995, lon: 8.5472, altRel: 30 }, eta: expect.any(String) as unknown });
  });

  it('answers an unknown delivery with problem+json 404, not a stream', async () => {
    const res = await fetch(`${base}/api/v1/deliveries/nope/events`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 'DLV_ERR_NOT_FOUND' });
  });
});
