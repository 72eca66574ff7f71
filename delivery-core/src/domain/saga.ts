import { errorCode, errorMessage, isTransient } from './saga-errors.js';
import { backoffMs, type BackoffPolicy } from './retry.js';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type SagaData = Record<string, Json>;

/**
 * running: `step` is the next step to execute. compensating: `step` is the next step to undo,
 * counting down; -1 means the steps are undone and only the failure itself (mark Failed, tell
 * the customer) is left. completed and failed are final.
 */
export type SagaStatus = 'running' | 'compensating' | 'completed' | 'failed';

/**
 * What is persisted after every step, so a crash at any point resumes from here: a new
 * process re-executes at most the one step in flight, which is why every step is idempotent
 * (keyed by `idempotencyKey`).
 */
export interface SagaState {
  id: string;
  kind: string;
  status: SagaStatus;
  step: number;
  /** The input, merged with each completed step's output. */
  data: SagaData;
  /** Failed tries of the current step (or compensation). */
  attempts: number;
  /** Not to be tried again before this (epoch ms): backoff after a transient failure. */
  nextAttemptAt: number;
  /** Why it compensates, once a step failed for good. */
  error: { step: string; code: string; message: string } | null;
  /** Optimistic concurrency: a save applies only over the version it was read at. */
  version: number;
  createdAt: number;
  updatedAt: number;
}

/** An event that leaves through the outbox, written in the same transaction as the saga state. */
export interface OutboxDraft {
  id: string;
  type: string;
  aggregateId: string;
  payload: Json;
}

export interface SagaStep<C> {
  name: string;
  /** Does the step (again, harmlessly, if it was done before a crash) and returns what later steps need. */
  execute(ctx: C, data: Readonly<SagaData>, idempotencyKey: string): Promise<SagaData | void>;
  /** Undoes it; must succeed when there is nothing to undo. */
  compensate?(ctx: C, data: Readonly<SagaData>, idempotencyKey: string): Promise<void>;
  /** Events that record the step's completion. */
  events?(data: Readonly<SagaData>): OutboxDraft[];
  /** Failed tries before a transient failure counts as permanent; unbounded by default. */
  maxAttempts?: number;
}

export interface SagaDefinition<C> {
  kind: string;
  steps: readonly SagaStep<C>[];
  /** Runs once every step is undone: the end state of a failed saga (idempotent). */
  onFailed(ctx: C, state: Readonly<SagaState>): Promise<void>;
  /** The events of the failure (the customer's notification), written with the failed state. */
  failedEvents(state: Readonly<SagaState>): OutboxDraft[];
  backoff: BackoffPolicy;
}

export function idempotencyKey(s: Pick<SagaState, 'id'>, step: string, phase: 'do' | 'undo'): string {
  return `${s.id}:${step}:${phase}`;
}

export function begin(kind: string, id: string, input: SagaData, now: number): SagaState {
  return { id, kind, status: 'running', step: 0, data: input, attempts: 0, nextAttemptAt: now, error: null, version: 0, createdAt: now, updatedAt: now };
}

export function isFinal(s: Pick<SagaState, 'status'>): boolean {
  return s.status === 'completed' || s.status === 'failed';
}

/** What one transition writes: the next state and the events to append in the same transaction. */
export interface Transition {
  next: SagaState;
  events: OutboxDraft[];
}

const bump = (s: SagaState, now: number, patch: Partial<SagaState>): SagaState => ({ ...s, ...patch, version: s.version + 1, updatedAt: now });

/** The running step succeeded with `output`. */
export function stepDone<C>(def: SagaDefinition<C>, s: SagaState, output: SagaData | void, now: number): Transition {
  const step = def.steps[s.step]!;
  const data = { ...s.data, ...(output ?? {}) };
  const last = s.step + 1 >= def.steps.length;
  return {
    next: bump(s, now, { data, step: s.step + 1, attempts: 0, nextAttemptAt: now, status: last ? 'completed' : 'running' }),
    events: step.events?.(data) ?? [],
  };
}

/**
 * The running step threw. Transient and under the step's cap: try again after a jittered
 * backoff (or when the error says, e.g. an open circuit). Otherwise compensate, starting with
 * the failed step itself: it may have taken effect before a crash or a lost answer, and its
 * compensation is a no-op when it did not.
 */
export function stepFailed<C>(def: SagaDefinition<C>, s: SagaState, err: unknown, now: number, random: () => number = Math.random): Transition {
  const step = def.steps[s.step]!;
  const attempts = s.attempts + 1;
  if (isTransient(err) && attempts < (step.maxAttempts ?? Number.POSITIVE_INFINITY)) {
    return { next: bump(s, now, { attempts, nextAttemptAt: retryAt(def, attempts, err, now, random) }), events: [] };
  }
  const code = isTransient(err) ? 'DLV_SAGA_GAVE_UP' : errorCode(err);
  const message = isTransient(err) ? `gave up after ${attempts} tries: ${errorMessage(err)}` : errorMessage(err);
  return {
    next: bump(s, now, { status: 'compensating', attempts: 0, nextAttemptAt: now, error: { step: step.name, code, message } }),
    events: [],
  };
}

/** Compensation `s.step` (or the final failure, at -1) succeeded. */
export function compensated<C>(def: SagaDefinition<C>, s: SagaState, now: number): Transition {
  if (s.step >= 0) return { next: bump(s, now, { step: s.step - 1, attempts: 0, nextAttemptAt: now }), events: [] };
  const next = bump(s, now, { status: 'failed', attempts: 0 });
  return { next, events: def.failedEvents(next) };
}

/** A compensation threw: compensations cannot be skipped, so every failure is retried with backoff. */
export function compensationFailed<C>(def: SagaDefinition<C>, s: SagaState, err: unknown, now: number, random: () => number = Math.random): Transition {
  const attempts = s.attempts + 1;
  return { next: bump(s, now, { attempts, nextAttemptAt: retryAt(def, attempts, err, now, random) }), events: [] };
}

function retryAt<C>(def: SagaDefinition<C>, attempts: number, err: unknown, now: number, random: () => number): number {
  const hinted = (err as { retryAt?: unknown } | null)?.retryAt;
  const backoff = now + backoffMs(def.backoff, attempts - 1, random);
  return typeof hinted === 'number' && hinted > backoff ? hinted : backoff;
}
