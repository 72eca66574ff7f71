import { describe, expect, it } from 'vitest';
import { begin, compensated, stepDone, stepFailed, type SagaDefinition, type SagaState } from '../src/domain/saga.js';
import { PermanentError, SagaFailureCodes, TransientError } from '../src/domain/saga-errors.js';
import { SagaRunner } from '../src/workflow/saga-runner.js';
import { MemoryWorkflowStore } from '../src/workflow/memory-store.js';
import type { SagaStore } from '../src/workflow/ports.js';
import { ManualClock } from './workflow-helpers.js';

/** A three-step saga whose effects land in a ledger keyed by idempotency key, so a re-run is visible. */
function ledgerSaga(failAt: { step: string; err: () => Error; times?: number } | null = null) {
  const applied = new Map<string, number>();
  const log: string[] = [];
  let failures = 0;
  const effect = (key: string) => {
    applied.set(key, (applied.get(key) ?? 0) + 1);
  };
  const step = (name: string) => ({
    name,
    execute(_ctx: null, _data: unknown, key: string) {
      log.push(`do ${name}`);
      if (failAt?.step === name && failures < (failAt.times ?? Number.POSITIVE_INFINITY)) {
        failures += 1;
        return Promise.reject(failAt.err());
      }
      if (!applied.has(key)) effect(key);
      return Promise.resolve({ [name]: true });
    },
    compensate(_ctx: null, _data: unknown, key: string) {
      log.push(`undo ${name}`);
      if (!applied.has(key)) effect(key);
      return Promise.resolve();
    },
    events: () => [{ id: `evt-${name}`, type: 'Done', aggregateId: 's1', payload: name }],
  });
  const def: SagaDefinition<null> = {
    kind: 'ledger', backoff: { baseMs: 1000, capMs: 8000 },
    steps: [step('a'), step('b'), step('c')],
    onFailed: () => {
      log.push('failed');
      return Promise.resolve();
    },
    failedEvents: (s) => [{ id: 'evt-failed', type: 'Failed', aggregateId: s.id, payload: s.error?.code ?? null }],
  };
  return { def, applied, log };
}

/** The store as a dying process sees it: the `n`-th save throws, before or after committing. */
function crashOnSave(inner: SagaStore, n: number, when: 'before' | 'after'): SagaStore {
  let saves = 0;
  return new Proxy(inner, {
    get(obj, prop) {
      if (prop !== 'saveSaga') return (Reflect.get(obj, prop) as (...a: unknown[]) => unknown).bind(obj);
      return async (...args: Parameters<SagaStore['saveSaga']>) => {
        saves += 1;
        if (saves === n && when === 'before') throw new Error('process died');
        const ok = await obj.saveSaga(...args);
        if (saves === n) throw new Error('process died');
        return ok;
      };
    },
  });
}

describe('saga state machine', () => {
  it('records each step and ends completed; a failed step backs off with jitter, a permanent one compensates from itself', () => {
    const { def } = ledgerSaga();
    let s: SagaState = begin('ledger', 's1', {}, 1000);
    const t1 = stepDone(def, s, { a: true }, 1100);
    expect(t1.next).toMatchObject({ status: 'running', step: 1, version: 1, data: { a: true } });
    expect(t1.events.map((e) => e.id)).toEqual(['evt-a']);
    s = t1.next;
    const retry = stepFailed(def, s, new TransientError('DOWN', 'down'), 2000, () => 0.5);
    expect(retry.next).toMatchObject({ status: 'running', step: 1, attempts: 1, nextAttemptAt: 2500 });
    const again = stepFailed(def, retry.next, new TransientError('DOWN', 'down'), 3000, () => 0.5);
    expect(again.next.nextAttemptAt).toBe(4000);
    const fail = stepFailed(def, again.next, new PermanentError('NOPE', 'refused'), 5000);
    expect(fail.next).toMatchObject({ status: 'compensating', step: 1, error: { step: 'b', code: 'NOPE', message: 'refused' } });
    const c1 = compensated(def, fail.next, 5001);
    const c0 = compensated(def, c1.next, 5002);
    expect(c0.next).toMatchObject({ status: 'compensating', step: -1 });
    const end = compensated(def, c0.next, 5003);
    expect(end.next.status).toBe('failed');
    expect(end.events).toEqual([{ id: 'evt-failed', type: 'Failed', aggregateId: 's1', payload: 'NOPE' }]);
  });

  it('an open circuit\'s retry time wins over a shorter backoff', () => {
    const { def } = ledgerSaga();
    const t = stepFailed(def, begin('ledger', 's1', {}, 0), new TransientError('DLV_SAGA_CIRCUIT_OPEN', 'open', 60_000), 10, () => 0);
    expect(t.next.nextAttemptAt).toBe(60_000);
  });

  it('a transient failure past the step\'s cap is given up as DLV_SAGA_GAVE_UP', () => {
    const { def } = ledgerSaga();
    const capped = { ...def, steps: def.steps.map((x) => ({ ...x, maxAttempts: 2 })) };
    const s1 = stepFailed(capped, begin('ledger', 's1', {}, 0), new TransientError('DOWN', 'down'), 1).next;
    const s2 = stepFailed(capped, s1, new TransientError('DOWN', 'still down'), 2).next;
    expect(s2).toMatchObject({ status: 'compensating', error: { code: 'DLV_SAGA_GAVE_UP', message: 'gave up after 2 tries: still down' } });
  });

  it('pins the saga code catalogue', () => {
    expect(Object.keys(SagaFailureCodes)).toEqual([
      'DLV_SAGA_NO_DELIVERY', 'DLV_SAGA_DELIVERY_ENDED', 'DLV_SAGA_ACCOUNT_UNKNOWN', 'DLV_SAGA_ACCOUNT_SUSPENDED', 'DLV_SAGA_PACKAGE_BOUND',
      'DLV_SAGA_NO_DRONE_FITS', 'DLV_SAGA_MISSION_REJECTED', 'DLV_SAGA_DRONE_TAKEN', 'DLV_SAGA_GAVE_UP', 'DLV_SAGA_UNEXPECTED', 'DLV_SAGA_WINDOW_MISSED',
      'DLV_SAGA_WAITING_FOR_DRONE', 'DLV_SAGA_DRONE_BUSY', 'DLV_SAGA_CIRCUIT_OPEN', 'DLV_SAGA_AWAITING_HUB', 'DLV_SAGA_HUB_NO_REPLY',
    ]);
  });
});

describe('SagaRunner', () => {
  it('runs to completion; each step\'s events are in the outbox once', async () => {
    const clock = new ManualClock();
    const store = new MemoryWorkflowStore();
    const { def, applied } = ledgerSaga();
    const runner = new SagaRunner(def, store, null, clock);
    await runner.start('s1', {});
    await runner.start('s1', { ignored: true });
    expect(await runner.run('s1')).toMatchObject({ status: 'completed', version: 3, data: { a: true, b: true, c: true } });
    expect([...applied.values()]).toEqual([1, 1, 1]);
    expect((await store.unsent(10)).map((e) => e.id)).toEqual(['evt-a', 'evt-b', 'evt-c']);
  });

  for (const when of ['before', 'after'] as const) {
    for (const n of [1, 2, 3]) {
      it(`a crash at save ${n} (${when} the commit) resumes in a new runner and applies every step exactly once`, async () => {
        const clock = new ManualClock();
        const store = new MemoryWorkflowStore();
        const { def, applied, log } = ledgerSaga();
        const dying = new SagaRunner(def, crashOnSave(store, n, when), null, clock);
        await dying.start('s1', {});
        await expect(dying.run('s1')).rejects.toThrow('process died');
        const saved = await store.getSaga('s1');
        expect(saved?.step).toBe(when === 'before' ? n - 1 : n);
        const fresh = new SagaRunner(def, store, null, clock);
        expect(await fresh.run('s1', { now: true })).toMatchObject({ status: 'completed' });
        expect([...applied.entries()]).toEqual([['s1:a:do', 1], ['s1:b:do', 1], ['s1:c:do', 1]]);
        // The step in flight at the crash ran twice (idempotently); no other did.
        expect(log.length).toBe(when === 'before' ? 4 : 3);
        expect((await store.unsent(10)).map((e) => e.id)).toEqual(['evt-a', 'evt-b', 'evt-c']);
      });
    }
  }

  it('a transient failure waits out its backoff, then succeeds', async () => {
    const clock = new ManualClock();
    const store = new MemoryWorkflowStore();
    const { def, log } = ledgerSaga({ step: 'b', err: () => new TransientError('DOWN', 'down'), times: 2 });
    const runner = new SagaRunner(def, store, null, clock, { random: () => 0.5 });
    await runner.start('s1', {});
    expect(await runner.run('s1')).toMatchObject({ status: 'running', step: 1, attempts: 1 });
    expect(await runner.run('s1')).toMatchObject({ status: 'running', step: 1, attempts: 1 });
    await clock.advance(500);
    expect(await runner.run('s1')).toMatchObject({ status: 'running', step: 1, attempts: 2 });
    await clock.advance(999);
    expect(await runner.run('s1')).toMatchObject({ attempts: 2 });
    await clock.advance(1);
    expect(await runner.run('s1')).toMatchObject({ status: 'completed' });
    expect(log).toEqual(['do a', 'do b', 'do b', 'do b', 'do c']);
  });

  it('a permanent failure compensates the done steps in reverse order, the failed one first, then fails', async () => {
    const clock = new ManualClock();
    const store = new MemoryWorkflowStore();
    const { def, log } = ledgerSaga({ step: 'c', err: () => new PermanentError('NOPE', 'refused') });
    const runner = new SagaRunner(def, store, null, clock);
    await runner.start('s1', {});
    expect(await runner.run('s1')).toMatchObject({ status: 'failed', error: { step: 'c', code: 'NOPE' } });
    expect(log).toEqual(['do a', 'do b', 'do c', 'undo c', 'undo b', 'undo a', 'failed']);
    expect((await store.unsent(10)).map((e) => e.id)).toEqual(['evt-a', 'evt-b', 'evt-failed']);
  });

  it('two runners racing on one saga: one transition wins each time, the saga completes once', async () => {
    const clock = new ManualClock();
    const store = new MemoryWorkflowStore();
    const { def, applied } = ledgerSaga();
    const a = new SagaRunner(def, store, null, clock);
    const b = new SagaRunner(def, store, null, clock);
    await a.start('s1', {});
    const [ra, rb] = await Promise.all([a.run('s1'), b.run('s1')]);
    const final = await store.getSaga('s1');
    expect(final).toMatchObject({ status: 'completed', version: 3 });
    expect([ra?.status, rb?.status]).toContain('completed');
    expect([...applied.values()]).toEqual([1, 1, 1]);
    expect(a.stats.lostRaces + b.stats.lostRaces).toBeGreaterThanOrEqual(1);
  });
});
