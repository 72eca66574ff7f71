import type { Clock, DeliveryAssignment, DispatchReply } from '@aerie/contracts';
import type { FleetLink } from '../ports.js';
import { TransientError } from '../domain/saga-errors.js';
import type { HubAnswer, MissionHub } from './ports.js';

/** Answers kept for sagas not waiting yet (a reply queued while the core restarted); the oldest go first. */
const MAX_KEPT = 10_000;

interface Kept {
  droneId: string;
  reply: DispatchReply;
  /** This process's clock when it came: only an answer that came after the dispatch it answers counts. */
  receivedAt: number;
}

/**
 * The hub over the fleet link. The assignment is the retained message the hub builds the
 * mission from, keyed by delivery id, so sending it again is harmless (idempotent); the hub
 * answers each with a DispatchReply (svc/v1/dispatch/{deliveryId}): accepted once the drone
 * started the mission, refused with a stable reason. The answer is kept here until the saga
 * asks, so one that came while no saga waited (a restart) is not lost; the hub also answers a
 * re-sent assignment again, the same way.
 */
export class FleetMissionHub implements MissionHub {
  private readonly answers = new Map<string, Kept>();
  private readonly listeners: ((deliveryId: string) => void)[] = [];

  constructor(private readonly fleet: FleetLink, private readonly clock: Clock) {
    fleet.onDispatchReply((r) => this.onReply(r));
  }

  dispatch(a: DeliveryAssignment): Promise<void> {
    this.fleet.publishAssignment(a.deliveryId, a);
    return Promise.resolve();
  }

  /**
   * The hub's answer to assignment `a` sent at `since` (this process's clock), or null while
   * none has come. Past `deadline` without one, `a` goes out again (the hub answers a repeat,
   * also after a restart of either side) and the call fails, transient: the hub did not answer
   * in time, which is what the circuit breaker counts — an open circuit sends nothing.
   */
  answer(a: DeliveryAssignment, since: number, deadline: number): Promise<HubAnswer | null> {
    const { deliveryId, droneId } = a;
    const kept = this.answers.get(deliveryId);
    if (kept && kept.droneId === droneId && kept.receivedAt >= since) {
      const r = kept.reply;
      return Promise.resolve(r.outcome === 'accepted'
        ? { outcome: 'accepted' }
        : { outcome: 'refused', reason: r.reason ?? 'mission_rejected', detail: r.detail ?? '', mavResult: r.mavResult ?? null });
    }
    if (this.clock.now() >= deadline) {
      this.fleet.publishAssignment(deliveryId, a);
      return Promise.reject(new TransientError('DLV_SAGA_HUB_NO_REPLY', `hub did not answer the assignment of ${deliveryId} to ${droneId} within ${deadline - since} ms`));
    }
    return Promise.resolve(null);
  }

  abort(a: DeliveryAssignment): Promise<void> {
    this.answers.delete(a.deliveryId);
    this.fleet.publishAssignment(a.deliveryId, { ...a, action: 'abort' });
    // Cleared, so a restarted hub does not resume a mission that was undone.
    this.fleet.publishAssignment(a.deliveryId, null);
    return Promise.resolve();
  }

  /** Called with the delivery id of each answer that comes (the workflow wakes its saga). */
  onAnswer(listener: (deliveryId: string) => void): void {
    this.listeners.push(listener);
  }

  private onReply(r: DispatchReply): void {
    // Newest last, so the eviction below drops the oldest; a duplicate just replaces the same answer.
    this.answers.delete(r.deliveryId);
    this.answers.set(r.deliveryId, { droneId: r.droneId, reply: r, receivedAt: this.clock.now() });
    if (this.answers.size > MAX_KEPT) {
      const oldest = this.answers.keys().next().value;
      if (oldest !== undefined) this.answers.delete(oldest);
    }
    for (const l of this.listeners) l(r.deliveryId);
  }
}
