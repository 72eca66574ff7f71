import type { BreakerPolicy } from '../domain/circuit-breaker.js';
import type { BackoffPolicy, RetryPolicy } from '../domain/retry.js';

export interface WorkflowOptions {
  /** In-process retries of one hub call before the step counts as failed (the saga then backs off durably). */
  hubRetry: RetryPolicy;
  /** The hub's circuit breaker. */
  hubBreaker: BreakerPolicy;
  /**
   * The breaker in front of the outbox's consumers (the event bus): the relay's second
   * dependency. While it is open a relay pass publishes nothing and leaves every event unsent.
   */
  busBreaker: BreakerPolicy;
  /** Durable backoff between tries of a failed step, across restarts (ms). */
  sagaBackoff: BackoffPolicy;
  /**
   * How long the saga waits for the hub's answer to a dispatched assignment before it counts as
   * no answer (ms; the hub answers once the drone started the mission, or refuses: an offline
   * drone is refused after the hub's own limit). Then the assignment is sent again with backoff,
   * behind the hub's circuit breaker, up to `hubReplyAttempts` tries in all, before the saga compensates.
   */
  hubReplyTimeoutMs: number;
  hubReplyAttempts: number;
  /** A saga waiting for the scheduler's proposal looks again after this (ms); a proposal wakes it at once. */
  waitForDroneMs: number;
  /** How often the Supervisor runs due sagas (ms). */
  superviseEveryMs: number;
  /** How often the outbox relay publishes (ms), and how many events per pass. */
  relayEveryMs: number;
  relayBatch: number;
  /**
   * Whether a delivery owner must be a registered account (PUT /api/v1/accounts/{id}). On by
   * default (issue 7: businesses register, then their customers): an API key or a JWT names an
   * account, it does not create one, so a delivery for an owner nobody registered fails at the
   * saga's check-account step with DLV_SAGA_ACCOUNT_UNKNOWN. A delivery without an owner (auth
   * off, or an operator not naming one) has no account to check. A registered account that is
   * suspended fails its deliveries either way.
   */
  requireRegisteredAccount: boolean;
  /**
   * Several core instances on one PostgreSQL (issue 8): this instance's id (AERIE_CORE_INSTANCE_ID,
   * by default the host name: the pod's name in a StatefulSet) and how long a saga it drives stays
   * its own without a run (ms, AERIE_CORE_SAGA_LEASE_MS). A saga is driven by the instance holding
   * its lease; an instance that dies leaves its sagas to the others once their leases expire.
   * Unused on SQLite and in memory (one process).
   */
  instanceId: string;
  sagaLeaseMs: number;
}

export const defaultWorkflowOptions: Readonly<WorkflowOptions> = Object.freeze({
  hubRetry: { attempts: 3, baseMs: 100, capMs: 2000 },
  hubBreaker: { failureThreshold: 5, openMs: 10_000 },
  busBreaker: { failureThreshold: 5, openMs: 5000 },
  sagaBackoff: { baseMs: 500, capMs: 30_000 },
  hubReplyTimeoutMs: 20_000,
  hubReplyAttempts: 12,
  waitForDroneMs: 5000,
  superviseEveryMs: 500,
  relayEveryMs: 200,
  relayBatch: 100,
  requireRegisteredAccount: true,
  instanceId: 'aerie-core',
  sagaLeaseMs: 10_000,
});
