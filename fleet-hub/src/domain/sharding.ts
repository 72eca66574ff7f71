/**
 * Per-drone ownership among hubs that share the fleet through an MQTT 5 shared subscription.
 *
 * The broker hands each status to one member of the group [MQTT 5.0 §4.8.2], message by
 * message, so each hub sees part of every drone's stream. Validation, dedupe and the telemetry
 * write do not care; the delivery tracker does (a stage needs the drone's whole stream, and two
 * hubs each deciding on their half publish a stage twice or miss it). So each drone's tracking
 * and commands belong to one hub, chosen by rendezvous (highest random weight) hashing over the
 * live hubs: every hub computes the same owner with no coordination, and when a hub joins or
 * leaves only the drones it gains or loses move. A hub that receives a status, command result
 * or online flag of a drone it does not own forwards it to the owner's inbox.
 *
 * Trade-off (stated in the README): the forward is an extra hop for the drones on a delivery
 * (not for idle ones: their statuses only need the pipeline), and while hubs join or leave
 * their views of the live set can briefly differ; the tracker state published retained per
 * delivery (stage only moves forward) lets the new owner carry on from the latest stage
 * instead of starting over. Pure: presence comes in as values.
 */
export class HubSharding {
  private readonly live = new Set<string>();

  constructor(readonly hubId: string) {
    this.live.add(hubId);
  }

  /** A hub's retained presence flag: present (non-empty payload) or gone (cleared by its will). */
  onPresence(hubId: string, present: boolean): void {
    if (hubId === this.hubId) return;
    if (present) this.live.add(hubId);
    else this.live.delete(hubId);
  }

  get hubs(): readonly string[] {
    return [...this.live].sort();
  }

  owner(droneId: string): string {
    let best = this.hubId;
    let bestWeight = -1;
    for (const h of this.live) {
      const w = fnv1a(`${h}\u0000${droneId}`);
      if (w > bestWeight || (w === bestWeight && h < best)) {
        best = h;
        bestWeight = w;
      }
    }
    return best;
  }

  mine(droneId: string): boolean {
    return this.owner(droneId) === this.hubId;
  }
}

/** FNV-1a, 32 bits: a cheap, stable spread of ids (not a security boundary). */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
