import { mkdtempSync, appendFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeliveryTracking } from '@aerie/contracts';
import { FileEventLog, MemoryEventStream, type EventStream } from '../src/index.js';

const event = (n: number, deliveryId = `dlv-${n % 3}`): DeliveryTracking => ({
  v: 1, eventId: `evt-${n}`, type: 'EtaUpdated', deliveryId, droneId: 'drone-001', stage: 'HeadedToPickup', ts: 1_700_000_000_000 + n,
  location: null, eta: null, correlationId: `corr-${deliveryId}`,
});

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

// One behaviour suite, run against the in-memory twin and the durable file log.
function contract(name: string, make: () => Promise<EventStream>): void {
  describe(`EventStream contract: ${name}`, () => {
    it('appends in order and hands out increasing offsets', async () => {
      const s = await make();
      const offsets = [];
      for (let i = 0; i < 5; i++) offsets.push(await s.append(event(i)));
      expect(offsets).toEqual([0, 1, 2, 3, 4]);
      expect((await s.read('a', 10)).map((e) => e.event.eventId)).toEqual(['evt-0', 'evt-1', 'evt-2', 'evt-3', 'evt-4']);
      await s.close();
    });

    it('each consumer resumes after its own committed offset', async () => {
      const s = await make();
      for (let i = 0; i < 5; i++) await s.append(event(i));
      const first = await s.read('core', 2);
      await s.commit('core', first.at(-1)!.offset);
      expect((await s.read('core', 10)).map((e) => e.offset)).toEqual([2, 3, 4]);
      expect((await s.read('dashboard', 1)).map((e) => e.offset)).toEqual([0]);
      await s.commit('core', 0); // an older commit never moves a consumer back
      expect((await s.read('core', 1)).map((e) => e.offset)).toEqual([2]);
      await s.close();
    });

    it('keeps the correlationId of every event', async () => {
      const s = await make();
      await s.append(event(7, 'dlv-x'));
      expect((await s.read('c', 1))[0]!.event.correlationId).toBe('corr-dlv-x');
      await s.close();
    });
  });
}

contract('memory', () => Promise.resolve(new MemoryEventStream()));
contract('file log', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aerie-events-'));
  dirs.push(dir);
  return FileEventLog.open(dir);
});

describe('file event log across restarts', () => {
  it('keeps acknowledged events and consumer offsets, and drops a torn last write', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aerie-events-'));
    dirs.push(dir);
    const a = await FileEventLog.open(dir);
    for (let i = 0; i < 4; i++) await a.append(event(i));
    await a.commit('core', 1);
    await a.close();
    appendFileSync(join(dir, 'events.log'), '{"v":1,"eventId":"torn'); // a crash mid-append
    const b = await FileEventLog.open(dir);
    expect((await b.read('core', 10)).map((e) => e.event.eventId)).toEqual(['evt-2', 'evt-3']);
    expect(await b.append(event(9))).toBe(4);
    await b.close();
    const c = await FileEventLog.open(dir);
    expect((await c.read('new', 10)).map((e) => e.event.eventId)).toEqual(['evt-0', 'evt-1', 'evt-2', 'evt-3', 'evt-9']);
    await c.close();
  });
});
