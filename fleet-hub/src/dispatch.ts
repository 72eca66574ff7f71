import {
  decodeMessage, encodeMessage, topics,
  type Clock, type CommandResult, type DeliveryAssignment, type DispatchRefusal, type DispatchReply, type DroneCommand, type DroneStatus,
} from '@aerie/contracts';
import type { DeliveryTracker, TrackingDraft } from './domain/tracker.js';
import type { FleetState } from './domain/fleet-state.js';
import { deliveryMission } from './domain/mission-plan.js';
import type { Outbound } from './ports.js';
import type { HubCounters, Reject } from './hub-counters.js';
import type { TrackingPublisher } from './tracking-publisher.js';
import { isActiveStage, type TrackerStateHandover } from './hub-sharding.js';

export function missionCommandId(deliveryId: string): string {
  return `mission-${deliveryId}`;
}

export interface DispatchOptions {
  /** Scale-out: only the drone's owning hub publishes its tracking, commands and replies. */
  mine?: (droneId: string) => boolean;
  /** Whether the drone is one of the fleet's (the registry); null: this hub cannot tell (external broker). */
  known?: (droneId: string) => boolean | null;
  /** A `fly` assignment whose drone stays offline this long is refused as drone_offline (ms). */
  offlineLimitMs?: number;
  /** Whether the drone's commands wait for it while it is offline (an IoT Hub device's C2D queue): sent at once. */
  queuedForOffline?: (droneId: string) => boolean;
  /** Where each delivery's stage is kept retained (hub-sharding.ts); cleared here when a delivery ends without a terminal event. */
  handover?: TrackerStateHandover | null;
}

/** The hub's side of one `fly` assignment: its answer, once there is one. */
interface Dispatched {
  a: DeliveryAssignment;
  since: number;
  reply: DispatchReply | null;
}

/**
 * The core's side of a delivery turned into drone commands, and answered: a `fly` assignment
 * starts tracking and sends the mission down; the drone's CommandResult for it becomes the
 * DispatchReply the core's saga waits for (accepted, or refused with a stable reason, as are an
 * unknown drone, a busy one, and one offline past the limit). The same assignment sent again gets
 * the same reply. An abort sends RTL and, by its reason, ends the delivery's tracking.
 */
export class CommandDispatch {
  /** droneId → the delivery whose mission that drone has acknowledged (CommandResult accepted). */
  private readonly acknowledged = new Map<string, string>();
  /** deliveryId → its `fly` assignment and the hub's answer; dropped when the core clears the assignment. */
  private readonly dispatched = new Map<string, Dispatched>();
  private readonly mine: (droneId: string) => boolean;
  private readonly known: (droneId: string) => boolean | null;
  private readonly offlineLimitMs: number;
  private readonly queuedForOffline: (droneId: string) => boolean;
  /** droneId → the tracker's status for it when its mission was held (see hold). */
  private readonly held = new Map<string, DroneStatus | null>();
  /** deliveryId → its retained stage, when that came before the assignment (both are retained: no order between them). */
  private readonly restored = new Map<string, string>();
  private readonly handover: TrackerStateHandover | null;
  /** DispatchReplies sent, repeats included. */
  repliesPublished = 0;

  constructor(
    private readonly tracker: DeliveryTracker,
    private readonly fleet: FleetState,
    private readonly tracking: TrackingPublisher,
    private readonly out: Outbound,
    private readonly clock: Clock,
    private readonly counters: HubCounters,
    private readonly reject: Reject,
    private readonly maxPayloadBytes: number,
    options: DispatchOptions | ((droneId: string) => boolean) = {},
  ) {
    const o = typeof options === 'function' ? { mine: options } : options;
    this.mine = o.mine ?? (() => true);
    this.known = o.known ?? (() => null);
    this.offlineLimitMs = o.offlineLimitMs ?? 60_000;
    this.queuedForOffline = o.queuedForOffline ?? (() => false);
    this.handover = o.handover ?? null;
  }

  /**
   * The retained stage of a delivery (svc/v1/tracker-state): set by this hub before a restart, or
   * by another hub of the group. Moves the tracker forward only; kept until the assignment comes
   * when it is not known yet. An empty payload (the delivery ended) forgets it.
   */
  restoreStage(deliveryId: string, stage: string): void {
    if (!isActiveStage(stage)) {
      this.restored.delete(deliveryId);
      return;
    }
    if (this.dispatched.has(deliveryId)) this.tracker.restoreStage(deliveryId, stage);
    else this.restored.set(deliveryId, stage);
  }

  /** The delivery's tracking ended here without a terminal event: its retained stage goes too. */
  private ended(deliveryId: string, droneId: string | null): void {
    this.restored.delete(deliveryId);
    if (droneId === null || this.mine(droneId)) this.handover?.clear(deliveryId);
  }

  /** Retained assignments: an empty payload clears one (the delivery has ended). */
  onAssignment(deliveryId: string, payload: Buffer): void {
    if (payload.length === 0) {
      const a = this.tracker.release(deliveryId);
      this.dispatched.delete(deliveryId);
      this.ended(deliveryId, a?.droneId ?? null);
      return;
    }
    const d = decodeMessage('DeliveryAssignment', payload, this.maxPayloadBytes);
    if (!d.ok) {
      this.reject('HUB_ERR_PAYLOAD', d.message, null);
      return;
    }
    const a = d.value;
    if (a.action === 'abort') return this.abort(a);
    const known = this.dispatched.get(a.deliveryId);
    if (known?.a.droneId === a.droneId) return this.again(known);
    const busy = this.tracker.activeFor(a.droneId);
    if (busy && busy.deliveryId !== a.deliveryId) return this.refuse(a, 'drone_busy', `drone ${a.droneId} is flying delivery ${busy.deliveryId}`);
    if (this.known(a.droneId) === false) return this.refuse(a, 'drone_unknown', `drone ${a.droneId} is not registered with this hub`);
    const drafts = this.tracker.assign(a, this.clock.now());
    const stage = this.restored.get(a.deliveryId);
    this.restored.delete(a.deliveryId);
    if (stage && isActiveStage(stage)) this.tracker.restoreStage(a.deliveryId, stage);
    this.acknowledged.delete(a.droneId);
    this.dispatched.set(a.deliveryId, { a, since: this.clock.now(), reply: null });
    if (!this.mine(a.droneId)) return;
    for (const draft of drafts) this.tracking.publish(draft);
    // Known to be offline: held until it is back and hears its FC. Sent now, the command would
    // wait in the drone's broker session and reach the agent before its FC link is up. An IoT Hub
    // device's C2D queue is meant to hold it (TTL, delivered once): that one goes now.
    if (this.fleet.get(a.droneId)?.online === false && !this.queuedForOffline(a.droneId)) this.hold(a.droneId);
    else this.sendMission(a);
  }

  /** The same assignment again (the core re-sent it after a timeout, or a restart): the same answer. */
  private again(rec: Dispatched): void {
    if (!this.mine(rec.a.droneId)) return;
    if (rec.reply) return this.publishReply(rec.reply);
    // Still waiting for the drone: send the mission again if it is online and hears its FC (same
    // commandId: the agent runs it once and answers a repeat with the result it already has).
    const linked = this.tracker.lastStatusOf(rec.a.droneId)?.link.fcConnected === true;
    if (this.fleet.get(rec.a.droneId)?.online === true && linked && !this.held.has(rec.a.droneId) && this.acknowledged.get(rec.a.droneId) !== rec.a.deliveryId) {
      this.sendMission(rec.a);
    }
  }

  /**
   * An abort: the drone flies home (RTL), and the delivery's tracking ends the way its reason
   * says — cancelled by the customer, failed (the core's saga compensating), or moved to
   * another drone (nothing here: the core publishes DeliveryRescheduled). A dispatch the hub
   * refused is no longer tracked: the core alone decides and records that failure.
   */
  private abort(a: DeliveryAssignment): void {
    this.dispatched.delete(a.deliveryId);
    const active = this.tracker.release(a.deliveryId);
    // Every reason, `reassigned` too: a stage kept from this drone's flight must not carry over.
    this.ended(a.deliveryId, a.droneId);
    if (!active || !this.mine(a.droneId)) return;
    this.send(a, `rtl-${a.deliveryId}`, { kind: 'rtl' });
    const ended = { deliveryId: a.deliveryId, droneId: a.droneId, ts: this.clock.now(), location: this.here(a.droneId), eta: null, ...corr(a) };
    if (a.abortReason === 'cancelled') this.tracking.publish({ ...ended, type: 'DeliveryCancelled', stage: 'Cancelled', reason: 'cancelled by the customer' });
    if (a.abortReason === 'failed') this.tracking.publish({ ...ended, type: 'DeliveryFailed', stage: 'Failed', reason: 'aborted by delivery-core (its saga compensates a failure)' });
  }

  private sendMission(a: DeliveryAssignment): void {
    this.send(a, missionCommandId(a.deliveryId), { kind: 'mission', steps: deliveryMission(a) });
  }

  /**
   * A drone came online: if it has an active delivery whose mission it has not acknowledged,
   * the mission goes again — once a status newer than the online flag says the agent hears its
   * flight controller (onTick): an agent connects to the broker before its FC link is up at
   * boot, and would answer AGENT_ERR_NO_LINK for good (it keeps each commandId's result). A
   * command published while the drone was offline is lost (its new session holds nothing
   * queued: the agent connects clean), so without this a mission dispatched to an offline drone
   * never flies. Same commandId, so the agent runs it at most once (edge-agent CommandLog). A
   * mission the drone already accepted is not re-sent: an agent that restarted mid-flight has
   * forgotten its command log and would start the mission over.
   */
  onOnline(droneId: string): void {
    const a = this.tracker.activeFor(droneId);
    if (!a || this.acknowledged.get(droneId) === a.deliveryId) return;
    this.hold(droneId);
  }

  /** Holds the drone's mission until a status newer than the one known now says the FC link is up. */
  private hold(droneId: string): void {
    this.held.set(droneId, this.tracker.lastStatusOf(droneId));
  }

  /**
   * The held missions whose drone has since reported a status with its FC link up. The tracker's
   * statuses, not the fleet state's: with several hubs the drone's owner gets them forwarded.
   */
  private sendHeld(): void {
    for (const [droneId, before] of this.held) {
      const a = this.tracker.activeFor(droneId);
      if (!a || this.acknowledged.get(droneId) === a.deliveryId) {
        this.held.delete(droneId);
        continue;
      }
      const s = this.tracker.lastStatusOf(droneId);
      if (!s || s === before || !s.link.fcConnected) continue;
      this.held.delete(droneId);
      this.counters.missionsResent += 1;
      this.sendMission(a);
    }
  }

  /** The drone's answer to its mission: the reply the core waits for. */
  onCommandResult(droneId: string, payload: Buffer): void {
    const d = decodeMessage('CommandResult', payload, this.maxPayloadBytes);
    if (!d.ok) {
      this.reject('HUB_ERR_PAYLOAD', d.message, droneId);
      return;
    }
    const r = d.value;
    const active = this.tracker.activeFor(droneId);
    if (!active || r.commandId !== missionCommandId(active.deliveryId)) return;
    const rec = this.dispatched.get(active.deliveryId);
    if (r.outcome === 'accepted') {
      this.acknowledged.set(droneId, active.deliveryId);
      if (rec && !rec.reply) this.answer(rec, { outcome: 'accepted', mavResult: r.mavResult });
      return;
    }
    this.tracker.release(active.deliveryId);
    this.ended(active.deliveryId, droneId);
    // The core is waiting: the reply is its answer, and its compensation (abort 'failed') ends the tracking.
    if (rec && !rec.reply) return this.answer(rec, { outcome: 'refused', reason: 'mission_rejected', detail: `${r.code}: ${r.message}`, mavResult: r.mavResult });
    // Refused after it was accepted (a mission sent again later): nobody waits, so fail the delivery here.
    this.failRefused(droneId, active, r);
  }

  /**
   * Once a second: a pending assignment whose drone has not been heard of for the limit (since
   * the assignment came, or since its last status or online flag, whichever is later) is refused.
   */
  onTick(now: number): void {
    this.sendHeld();
    for (const rec of this.dispatched.values()) {
      const view = this.fleet.get(rec.a.droneId);
      const quietMs = now - Math.max(rec.since, view?.lastSeen ?? 0);
      if (rec.reply || view?.online === true || quietMs < this.offlineLimitMs || !this.mine(rec.a.droneId)) continue;
      this.tracker.release(rec.a.deliveryId);
      this.ended(rec.a.deliveryId, rec.a.droneId);
      this.answer(rec, { outcome: 'refused', reason: 'drone_offline', detail: `drone ${rec.a.droneId} offline for ${Math.round(quietMs / 1000)} s` });
    }
  }

  private refuse(a: DeliveryAssignment, reason: DispatchRefusal, detail: string): void {
    const rec: Dispatched = { a, since: this.clock.now(), reply: null };
    this.dispatched.set(a.deliveryId, rec);
    if (this.mine(a.droneId)) this.answer(rec, { outcome: 'refused', reason, detail });
  }

  private answer(rec: Dispatched, r: Pick<DispatchReply, 'outcome' | 'reason' | 'detail' | 'mavResult'>): void {
    const reply: DispatchReply = {
      v: 1, deliveryId: rec.a.deliveryId, droneId: rec.a.droneId, ts: this.clock.now(), ...corr(rec.a),
      commandId: missionCommandId(rec.a.deliveryId), outcome: r.outcome,
      ...(r.reason ? { reason: r.reason } : {}), ...(r.detail ? { detail: r.detail.slice(0, 512) } : {}), ...(r.mavResult !== undefined ? { mavResult: r.mavResult } : {}),
    };
    rec.reply = reply;
    this.publishReply(reply);
  }

  private publishReply(reply: DispatchReply): void {
    this.out.publish(topics.dispatchReply(reply.deliveryId), encodeMessage(reply));
    this.repliesPublished += 1;
  }

  private failRefused(droneId: string, active: DeliveryAssignment, r: CommandResult): void {
    const draft: TrackingDraft = {
      type: 'DeliveryFailed', stage: 'Failed', deliveryId: active.deliveryId, droneId, ts: this.clock.now(),
      location: this.here(droneId), eta: null, reason: `${r.code}: ${r.message}`, ...corr(active),
    };
    this.tracking.publish(draft);
  }

  private here(droneId: string): TrackingDraft['location'] {
    const p = this.fleet.get(droneId)?.status?.position;
    return p ? { lat: p.lat, lon: p.lon, altRel: p.altRel } : null;
  }

  private send(a: DeliveryAssignment, commandId: string, action: DroneCommand['action']): void {
    const cmd: DroneCommand = { v: 1, commandId, droneId: a.droneId, ts: this.clock.now(), action, ...corr(a) };
    this.out.publish(topics.command(a.droneId), encodeMessage(cmd));
    this.counters.commandsPublished += 1;
  }
}

const corr = (a: Pick<DeliveryAssignment, 'correlationId'>): { correlationId?: string } => (a.correlationId ? { correlationId: a.correlationId } : {});
