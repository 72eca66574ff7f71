import { afterEach, describe, expect, it } from 'vitest';
import type { OutboxEvent } from '../src/domain/outbox.js';
import { PermanentError, TransientError } from '../src/domain/saga-errors.js';
import { DeliveryService, MemoryDeliveryRepository, MemoryFleetLink, coreConfig } from '../src/index.js';
import { MemoryWorkflowStore } from '../src/workflow/memory-store.js';
import { ManualClock } from './workflow-helpers.js';

const body = { pickup: { lat: 47.399, lon: 8.547 }, dropoff: { lat: 47.401, lon: 8.55 } };
let service: DeliveryService | null = null;
afterEach(() => {
  service?.stop();
  service = null;
});

// Issue 7: "a circuit breaker per dependency". The saga's hub has its own (workflow-suite.ts);
// this is the outbox relay's other dependency, the bus its events leave on.
describe('the outbox relay behind the bus circuit breaker', () => {
  it('opens after N transient publish failures, leaves the bus alone while open, keeps the event, and publishes it once after the delay', async () => {
    const clock = new ManualClock();
    const store = new MemoryWorkflowStore();
    service = new DeliveryService(new MemoryDeliveryRepository(), new MemoryFleetLink(), coreConfig({ dbPath: ':memory:' }), clock, store,
      { busBreaker: { failureThreshold: 2, openMs: 5000 } });
    const wf = service.workflow;
    let down = true;
    let calls = 0;
    const published: OutboxEvent[] = [];
    wf.onEvent((e) => {
      calls += 1;
      if (down) throw new TransientError('DLV_SAGA_CIRCUIT_OPEN', 'bus: not connected');
      published.push(e);
    });
    // One event in the outbox: an owner nobody registered fails its saga and is notified.
    await service.request('b1', { ...body, owner: 'nobody' }, 'corr-b1');
    expect(await wf.begin('b1')).toMatchObject({ status: 'failed', error: { code: 'DLV_SAGA_ACCOUNT_UNKNOWN' } });

    expect(await wf.relay.relayOnce()).toBe(0);
    expect(wf.busBreaker.current()).toBe('closed');
    expect(await wf.relay.relayOnce()).toBe(0);
    expect(wf.busBreaker.current()).toBe('open');
    expect(calls).toBe(2);
    // Open: the pass fails fast without calling the bus, and the event stays unsent.
    down = false;
    await clock.advance(4999);
    expect(await wf.relay.relayOnce()).toBe(0);
    expect(calls).toBe(2);
    expect(wf.busBreaker.stats).toMatchObject({ opened: 1, rejected: 1 });
    expect(await store.unsent(10)).toHaveLength(1);
    // Half-open after openMs: one trial, which succeeds, closes the circuit and marks it sent.
    await clock.advance(1);
    expect(wf.busBreaker.current()).toBe('half-open');
    expect(await wf.relay.relayOnce()).toBe(1);
    expect(wf.busBreaker.current()).toBe('closed');
    expect(published.map((e) => [e.type, (e.payload as { code: string }).code])).toEqual([['DeliveryFailed', 'DLV_SAGA_ACCOUNT_UNKNOWN']]);
    expect(await store.unsent(10)).toEqual([]);
    expect(await wf.relay.relayOnce()).toBe(0);
    expect(calls).toBe(3);
  });

  it('a permanent refusal (the bus answered) does not open the circuit', async () => {
    const clock = new ManualClock();
    service = new DeliveryService(new MemoryDeliveryRepository(), new MemoryFleetLink(), coreConfig({ dbPath: ':memory:' }), clock, new MemoryWorkflowStore(),
      { busBreaker: { failureThreshold: 1, openMs: 5000 } });
    const wf = service.workflow;
    wf.onEvent(() => {
      throw new PermanentError('DLV_SAGA_UNEXPECTED', 'the consumer refuses this event');
    });
    await service.request('b2', { ...body, owner: 'nobody' }, 'corr-b2');
    await wf.begin('b2');
    expect(await wf.relay.relayOnce()).toBe(0);
    expect(wf.busBreaker.current()).toBe('closed');
    expect(wf.relay.stats.failures).toBe(1);
  });
});
