import type { DeliveryStage, LatLon, Location } from '@aerie/contracts';

export interface StageChange {
  stage: DeliveryStage;
  at: number;
  eventId: string;
}

export interface Delivery {
  id: string;
  owner: string | null;
  pickup: LatLon;
  dropoff: LatLon;
  stage: DeliveryStage;
  droneId: string | null;
  /** Expected completion, epoch ms. */
  eta: number | null;
  lastPosition: Location | null;
  correlationId: string;
  createdAt: number;
  updatedAt: number;
  failureReason: string | null;
  /** The ETA promised when the drone was assigned, and the one at half-way along the dropoff leg (epoch ms): with the arrival they give the ETA error. */
  etaAtDispatch: number | null;
  etaAtHalfway: number | null;
  /** The customer's pickup window and delivery deadline; every bound may be open (null). */
  window: DeliveryWindow;
  /** The routed legs of the assignment as dispatched (no-fly zones), so a restart re-publishes the same mission; null without zones. */
  route: StoredRoute | null;
  /**
   * The drone whose mission for this delivery a reschedule aborted. It is not given this delivery
   * again: fleet-hub's mission command id is per delivery and the edge agent runs a command id
   * once (edge-agent CommandLog), so that drone would never fly the new mission.
   */
  abortedDroneId: string | null;
}

/** When the package may be picked up and by when it must be at the dropoff (epoch ms); null: no bound. */
export interface DeliveryWindow {
  pickupFrom: number | null;
  pickupBy: number | null;
  deadline: number | null;
}

export const OPEN_WINDOW: Readonly<DeliveryWindow> = Object.freeze({ pickupFrom: null, pickupBy: null, deadline: null });

/**
 * The intermediate waypoints round no-fly zones of each leg of a dispatched assignment
 * (DeliveryAssignment.route), for the drone they were planned for and from where it was.
 */
export interface StoredRoute {
  droneId: string;
  from: LatLon;
  toPickup: LatLon[];
  toDropoff: LatLon[];
  toHome: LatLon[];
}

export interface DeliveryRequest {
  owner: string | null;
  pickup: LatLon;
  dropoff: LatLon;
  /** Absent: no window, no deadline. */
  window?: DeliveryWindow;
}

const RANK: Record<DeliveryStage, number> = {
  Requested: 0, Scheduled: 1, HeadedToPickup: 2, PickedUp: 3, HeadedToDropoff: 4, Completed: 5, Cancelled: 5, Failed: 5,
};

export const FINAL_STAGES: ReadonlySet<DeliveryStage> = new Set(['Completed', 'Cancelled', 'Failed']);
export const ACTIVE_STAGES: readonly DeliveryStage[] = ['Scheduled', 'HeadedToPickup', 'PickedUp', 'HeadedToDropoff'];

/** Stages only move forward; a final stage never changes. Late or repeated events are ignored. */
export function canAdvance(from: DeliveryStage, to: DeliveryStage): boolean {
  if (FINAL_STAGES.has(from)) return false;
  if (to === 'Failed') return true;
  if (to === 'Cancelled') return RANK[from] < RANK.PickedUp;
  return RANK[to] > RANK[from];
}

/** Cancel is allowed until pickup. */
export function isCancellable(stage: DeliveryStage): boolean {
  return RANK[stage] < RANK.PickedUp;
}

/** Same request body means the same delivery (idempotent PUT): places, owner, window and deadline. */
export function sameRequest(d: Delivery, r: DeliveryRequest): boolean {
  const eq = (a: LatLon, b: LatLon) => a.lat === b.lat && a.lon === b.lon;
  const w = r.window ?? OPEN_WINDOW;
  return eq(d.pickup, r.pickup) && eq(d.dropoff, r.dropoff) && d.owner === r.owner
    && d.window.pickupFrom === w.pickupFrom && d.window.pickupBy === w.pickupBy && d.window.deadline === w.deadline;
}

/** Why a requested window cannot be taken: a stable code (errors.ts) and the detail. */
export interface WindowProblem {
  code: 'DLV_ERR_WINDOW_INVALID' | 'DLV_ERR_WINDOW_PAST' | 'DLV_ERR_DEADLINE_UNREACHABLE';
  detail: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Checks a window at request (or reschedule) time. `fastestS`: seconds from a drone already
 * waiting at the pickup to the package at the dropoff — no drone of the fleet can do better,
 * so a deadline closer than that is refused rather than accepted and failed later.
 */
export function windowProblem(w: DeliveryWindow, now: number, fastestS: number): WindowProblem | null {
  const { pickupFrom, pickupBy, deadline } = w;
  if (pickupFrom !== null && pickupBy !== null && pickupBy <= pickupFrom) {
    return { code: 'DLV_ERR_WINDOW_INVALID', detail: `pickup window ends (${iso(pickupBy)}) before it starts (${iso(pickupFrom)})` };
  }
  if (pickupFrom !== null && deadline !== null && deadline <= pickupFrom) {
    return { code: 'DLV_ERR_WINDOW_INVALID', detail: `deadline ${iso(deadline)} is before the pickup window opens (${iso(pickupFrom)})` };
  }
  if (pickupBy !== null && pickupBy <= now) return { code: 'DLV_ERR_WINDOW_PAST', detail: `pickup window closed at ${iso(pickupBy)}` };
  if (deadline !== null && deadline <= now) return { code: 'DLV_ERR_WINDOW_PAST', detail: `deadline ${iso(deadline)} has passed` };
  return windowMissed(w, now, fastestS) === null ? null : { code: 'DLV_ERR_DEADLINE_UNREACHABLE', detail: windowMissed(w, now, fastestS)! };
}

/**
 * Why no drone can make the window any more (null while one still could): the pickup window
 * has closed, or even a drone already at the pickup (`fastestS` to the dropoff) would arrive
 * after the deadline. The saga fails such a delivery with this reason instead of letting it
 * wait for a drone forever.
 */
export function windowMissed(w: DeliveryWindow, now: number, fastestS: number): string | null {
  if (w.pickupBy !== null && now > w.pickupBy) return `pickup window closed at ${iso(w.pickupBy)}`;
  if (w.deadline !== null) {
    const earliest = Math.max(now, w.pickupFrom ?? now) + Math.round(fastestS * 1000);
    if (earliest > w.deadline) return `deadline ${iso(w.deadline)} cannot be met: the fastest trip arrives at ${iso(earliest)}`;
  }
  return null;
}
