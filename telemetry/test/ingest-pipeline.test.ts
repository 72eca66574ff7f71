import { describe, expect, it } from 'vitest';
import { topics } from '@aerie/contracts';
import { createIngestPipeline } from '../src/domain/ingest.js';
import { createMemoryStore } from '../src/adapters/memory-store.js';
import { createMemoryLogger } from '../src/adapters/stderr-logger.js';
import type { TelemetryStore } from '../src/ports.js';
import { ManualClock } from './helpers/manual-clock.js';
import { makeFlight, makeStatus } from './helpers/status.js';

function setup(store: TelemetryStore = createMemoryStore()) {
  const clock = new ManualClock(1_000);
  const logger = createMemoryLogger();
  const pipeline = createIngestPipeline({ store, logger, clock, maxBatchPoints: 3, flushIntervalMs: 200 });
  const send = (payload: unknown, topic = topics.status('drone-1')) => pipeline.accept(topic, Buffer.from(JSON.stringify(payload)));
  return { clock, logger, pipeline, store, send };
}

describe('ingest pipeline', () => {
  it('writes a partial batch once it is 200 ms old', () => {
    const { clock, pipeline, store, send } = setup();
    send(makeStatus());
    clock.advance(199);
    expect(pipeline.stats().stored).toBe(0);
    expect(pipeline.pending()).toBe(1);
    clock.advance(1);
    expect(pipeline.stats()).toEqual({ received: 1, stored: 1, duplicates: 0, rejected: {} });
    expect(store.latest('drone-1')).not.toBeNull();
    expect(clock.pendingTimers).toBe(0);
  });

  it('writes a full batch at once, without waiting for the timer', () => {
    const { clock, pipeline, send } = setup();
    for (const s of makeFlight(4)) send(s);
    expect(pipeline.stats()).toMatchObject({ received: 4, stored: 3 });
    expect(pipeline.pending()).toBe(1);
    clock.advance(200);
    expect(pipeline.stats()).toMatchObject({ received: 4, stored: 4 });
  });

  it('counts duplicates the store reports', () => {
    const { pipeline, send } = setup();
    const s = makeStatus();
    send(s);
    send(s);
    pipeline.flush();
    expect(pipeline.stats()).toEqual({ received: 2, stored: 1, duplicates: 1, rejected: {} });
  });

  it('counts and logs each kind of garbage by code, one line naming the drone', () => {
    const { logger, pipeline, send } = setup();
    pipeline.accept(topics.status('drone-1'), Buffer.from('{not json'));
    send({ ...makeStatus(), heading: 400 });
    send(makeStatus({ droneId: 'drone-2' }));
    send(makeStatus(), 'fleet/v1/bad id/status');
    pipeline.accept(topics.status('drone-1'), Buffer.alloc(70 * 1024, 0x20));
    pipeline.flush();
    expect(pipeline.stats()).toEqual({
      received: 5,
      stored: 0,
      duplicates: 0,
      rejected: {
        CONTRACT_ERR_NOT_JSON: 1,
        CONTRACT_ERR_SCHEMA: 1,
        TEL_ERR_TOPIC_MISMATCH: 1,
        TEL_ERR_BAD_TOPIC: 1,
        CONTRACT_ERR_TOO_LARGE: 1,
      },
    });
    expect(logger.lines).toHaveLength(5);
    expect(logger.lines[0]).toMatch(/^warn .*drone=drone-1 code=CONTRACT_ERR_NOT_JSON /);
    expect(logger.lines[2]).toMatch(/drone=drone-1 code=TEL_ERR_TOPIC_MISMATCH .*drone-2/);
    expect(logger.lines[3]).toMatch(/drone=- code=TEL_ERR_BAD_TOPIC/);
    for (const line of logger.lines) expect(line).not.toContain('\n');
  });

  it('counts a failed store write as rejected points instead of throwing from the timer', () => {
    const broken: TelemetryStore = {
      ...createMemoryStore(),
      append: () => {
        throw new Error('SQLITE_FULL: database or disk is full');
      },
    };
    const { clock, logger, pipeline, send } = setup(broken);
    send(makeStatus());
    send(makeStatus({ seq: 1 }));
    expect(() => clock.advance(200)).not.toThrow();
    expect(pipeline.stats()).toEqual({ received: 2, stored: 0, duplicates: 0, rejected: { TEL_ERR_STORE_FAILED: 2 } });
    expect(logger.lines).toEqual([expect.stringMatching(/^error .*code=TEL_ERR_STORE_FAILED points=2 .*SQLITE_FULL/)]);
  });

  it('hands out snapshots of its counters', () => {
    const { pipeline, send } = setup();
    const before = pipeline.stats();
    send('garbage');
    expect(before).toEqual({ received: 0, stored: 0, duplicates: 0, rejected: {} });
  });
});
