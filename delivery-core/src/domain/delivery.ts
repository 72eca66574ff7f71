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
}

export interface DeliveryRequest {
  owner: string | null;
  pickup: LatLon;
  dropoff: LatLon;
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

/** Same request body means the same delivery (idempotent PUT). */
export function sameRequest(d: Delivery, r: DeliveryRequest): boolean {
  const eq = (a: LatLon, b: LatLon) => a.lat === b.lat && a.lon === b.lon;
  return eq(d.pickup, r.pickup) && eq(d.dropoff, r.dropoff) && d.owner === r.owner;
}
