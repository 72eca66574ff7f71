import type { DeliveryStage } from '@aerie/contracts';
import { HubSharding } from './domain/sharding.js';
import type { Outbound } from './ports.js';

// The hubs' own coordination topics, under svc/ (service principals only; drones cannot touch them).
const HUBS = 'svc/v1/hubs';
const STATE = 'svc/v1/tracker-state';

export const hubTopics = {
  presence: (hubId: string) => `${HUBS}/${hubId}/presence`,
  allPresence: `${HUBS}/+/presence`,
  inbox: (hubId: string) => `${HUBS}/${hubId}/fwd/#`,
  /** A hub's own marker at shutdown: once it comes back, what the broker queued for the hub before it has arrived. */
  barrier: (hubId: string) => `${HUBS}/${hubId}/barrier`,
  forward: (hubId: string, droneId: string, channel: string) => `${HUBS}/${hubId}/fwd/${droneId}/${channel}`,
  state: (deliveryId: string) => `${STATE}/${deliveryId}`,
  allState: `${STATE}/+`,
};

export type HubTopic =
  | { kind: 'presence'; hubId: string }
  | { kind: 'forwarded'; droneId: string; channel: string }
  | { kind: 'state'; deliveryId: string };

export function parseHubTopic(topic: string): HubTopic | null {
  const p = topic.split('/');
  if (topic.startsWith(`${STATE}/`) && p.length === 4 && p[3]) return { kind: 'state', deliveryId: p[3] };
  if (!topic.startsWith(`${HUBS}/`) || !p[3]) return null;
  if (p.length === 5 && p[4] === 'presence') return { kind: 'presence', hubId: p[3] };
  if (p.length >= 7 && p[4] === 'fwd' && p[5]) return { kind: 'forwarded', droneId: p[5], channel: p.slice(6).join('/') };
  return null;
}

/** Stages a hub hands over to the next owner of a delivery (terminal ones clear the state). */
const ACTIVE_STAGES = new Set<DeliveryStage>(['Scheduled', 'HeadedToPickup', 'PickedUp', 'HeadedToDropoff']);

/**
 * Each delivery's stage, retained under svc/v1/tracker-state/{deliveryId}: whichever hub tracks
 * it next (another of a shared group, or this one after a restart) starts from there, so a
 * status seen again never re-emits an earlier stage (issue 5: stages never move backwards). The
 * embedded broker keeps retained svc/ messages in its file (adapters/retained-store.ts), an
 * external broker in its own retained store. A delivery that ends (terminal stage, abort for any
 * reason, assignment cleared, dispatch refused) clears it.
 */
export class TrackerStateHandover {
  constructor(private readonly out: Outbound) {}

  stageReached(deliveryId: string, stage: DeliveryStage): void {
    this.out.publish(hubTopics.state(deliveryId), ACTIVE_STAGES.has(stage) ? stage : '', true);
  }

  clear(deliveryId: string): void {
    this.out.publish(hubTopics.state(deliveryId), '', true);
  }
}

/**
 * Scale-out routing on top of domain/sharding.ts: forwards a drone's messages to its owner
 * (each delivery's stage is handed over by TrackerStateHandover, with or without a group).
 */
export class HubRouter {
  readonly sharding: HubSharding;

  constructor(hubId: string, private readonly out: Outbound) {
    this.sharding = new HubSharding(hubId);
  }

  mine(droneId: string): boolean {
    return this.sharding.mine(droneId);
  }

  forward(droneId: string, channel: string, payload: Buffer): void {
    this.out.publish(hubTopics.forward(this.sharding.owner(droneId), droneId, channel), payload);
  }
}

export function isActiveStage(s: string): s is 'Scheduled' | 'HeadedToPickup' | 'PickedUp' | 'HeadedToDropoff' {
  return ACTIVE_STAGES.has(s as DeliveryStage);
}
