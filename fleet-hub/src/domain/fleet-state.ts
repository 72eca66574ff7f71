import type { DroneStatus } from '@aerie/contracts';

export interface DroneView {
  status: DroneStatus | null;
  online: boolean;
  lastSeen: number;
}

/**
 * The fleet's latest state. A status is applied only when newer than what is known for the
 * drone: same bootId and a higher seq, or a new bootId (the agent restarted).
 */
export class FleetState {
  private readonly drones = new Map<string, DroneView>();

  /** Returns false for a duplicate or out-of-order status. */
  applyStatus(status: DroneStatus, now: number): boolean {
    const view = this.view(status.droneId, now);
    const prev = view.status;
    if (prev && prev.bootId === status.bootId && status.seq <= prev.seq) return false;
    view.status = status;
    view.lastSeen = now;
    view.online = true;
    return true;
  }

  setOnline(droneId: string, online: boolean, now: number): void {
    const view = this.view(droneId, now);
    view.online = online;
    if (online) view.lastSeen = now;
  }

  get(droneId: string): DroneView | undefined {
    return this.drones.get(droneId);
  }

  all(): ReadonlyMap<string, DroneView> {
    return this.drones;
  }

  private view(droneId: string, now: number): DroneView {
    let v = this.drones.get(droneId);
    if (!v) {
      v = { status: null, online: false, lastSeen: now };
      this.drones.set(droneId, v);
    }
    return v;
  }
}
