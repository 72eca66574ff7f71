import {
  decodeMessage, encodeMessage, topics,
  type Clock, type CommandResult, type DeliveryAssignment, type DroneCommand,
} from '@aerie/contracts';
import type { DeliveryTracker } from './domain/tracker.js';
import type { FleetState } from './domain/fleet-state.js';
import { deliveryMission } from './domain/mission-plan.js';
import type { Outbound } from './ports.js';
import type { HubCounters, Reject } from './hub-counters.js';
import type { TrackingPublisher } from './tracking-publisher.js';

export function missionCommandId(deliveryId: string): string {
  return `mission-${deliveryId}`;
}

/**
 * The core's side of a delivery turned into drone commands: a retained assignment starts
 * tracking and sends the mission down; an abort sends RTL; a refused mission fails the delivery.
 */
export class CommandDispatch {
  /** droneId → the delivery whose mission that drone has acknowledged (CommandResult accepted). */
  private readonly acknowledged = new Map<string, string>();

  constructor(
    private readonly tracker: DeliveryTracker,
    private readonly fleet: FleetState,
    private readonly tracking: TrackingPublisher,
    private readonly out: Outbound,
    private readonly clock: Clock,
    private readonly counters: HubCounters,
    private readonly reject: Reject,
    private readonly maxPayloadBytes: number,
    /** Scale-out: only the drone's owning hub publishes its tracking and sends its commands. */
    private readonly mine: (droneId: string) => boolean = () => true,
  ) {}

  /** Retained assignments: an empty payload clears one (the delivery has ended). */
  onAssignment(deliveryId: string, payload: Buffer): void {
    if (payload.length === 0) {
      this.tracker.release(deliveryId);
      return;
    }
    const d = decodeMessage('DeliveryAssignment', payload, this.maxPayloadBytes);
    if (!d.ok) {
      this.reject('HUB_ERR_PAYLOAD', d.message, null);
      return;
    }
    const a = d.value;
    const mine = this.mine(a.droneId);
    if (a.action === 'abort') {
      if (this.tracker.release(a.deliveryId) && mine) this.send(a, `rtl-${a.deliveryId}`, { kind: 'rtl' });
      return;
    }
    if (this.tracker.activeFor(a.droneId)?.deliveryId === a.deliveryId) return;
    const drafts = this.tracker.assign(a, this.clock.now());
    this.acknowledged.delete(a.droneId);
    if (!mine) return;
    for (const draft of drafts) this.tracking.publish(draft);
    this.sendMission(a);
  }

  private sendMission(a: DeliveryAssignment): void {
    this.send(a, missionCommandId(a.deliveryId), { kind: 'mission', steps: deliveryMission(a) });
  }

  /**
   * A drone came online: if it has an active delivery whose mission it has not acknowledged,
   * send the mission again. A command published while the drone was offline is lost (its new
   * session holds nothing queued: the agent connects clean), so without this a mission
   * dispatched to an offline drone never flies. Same commandId, so the agent runs it at most
   * once (edge-agent CommandLog). A mission the drone already accepted is not re-sent: an agent
   * that restarted mid-flight has forgotten its command log and would start the mission over.
   */
  onOnline(droneId: string): void {
    const a = this.tracker.activeFor(droneId);
    if (!a || this.acknowledged.get(droneId) === a.deliveryId) return;
    this.counters.missionsResent += 1;
    this.sendMission(a);
  }

  /** A mission the drone refused fails its delivery; an accepted one is not re-sent on reconnect. */
  onCommandResult(droneId: string, payload: Buffer): void {
    const d = decodeMessage('CommandResult', payload, this.maxPayloadBytes);
    if (!d.ok) {
      this.reject('HUB_ERR_PAYLOAD', d.message, droneId);
      return;
    }
    const active = this.tracker.activeFor(droneId);
    if (active && d.value.outcome === 'accepted' && d.value.commandId === missionCommandId(active.deliveryId)) {
      this.acknowledged.set(droneId, active.deliveryId);
    }
    this.failIfMissionRefused(droneId, d.value);
  }

  private failIfMissionRefused(droneId: string, r: CommandResult): void {
    const active = this.tracker.activeFor(droneId);
    if (!active || r.outcome === 'accepted' || r.commandId !== missionCommandId(active.deliveryId)) return;
    this.tracker.release(active.deliveryId);
    const status = this.fleet.get(droneId)?.status;
    this.tracking.publish({
      type: 'DeliveryFailed', stage: 'Failed', deliveryId: active.deliveryId, droneId, ts: this.clock.now(),
      location: status?.position ? { lat: status.position.lat, lon: status.position.lon, altRel: status.position.altRel } : null,
      eta: null, reason: `${r.code}: ${r.message}`,
      ...(active.correlationId ? { correlationId: active.correlationId } : {}),
    });
  }

  private send(a: DeliveryAssignment, commandId: string, action: DroneCommand['action']): void {
    const cmd: DroneCommand = {
      v: 1, commandId, droneId: a.droneId, ts: this.clock.now(), action,
      ...(a.correlationId ? { correlationId: a.correlationId } : {}),
    };
    this.out.publish(topics.command(a.droneId), encodeMessage(cmd));
    this.counters.commandsPublished += 1;
  }
}
