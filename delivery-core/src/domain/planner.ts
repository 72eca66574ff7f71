import type { LatLon } from '@aerie/contracts';
import { descentS, type FlightProfile } from './eta.js';
import { groundSpeedFromComponents } from './wind.js';
import { solveSparse, type SparseProblem } from './lap.js';
import type { NoFlyRouter, PreparedPoint } from './routing.js';
import { explain, type Explanation } from './explain.js';

export type { Explanation } from './explain.js';

/** A drone the planner may use: idle, on the ground, where it is and what it can carry. */
export interface PlanDrone {
  id: string;
  position: LatLon;
  /** Where it returns after the dropoff (its base). */
  home: LatLon;
  maxPayloadKg: number;
  /** Energy left in the battery now (Wh). */
  energyWh: number;
  maxRangeM: number;
  /** Ground-speed correction learned from this drone's flights (1 = the model). */
  speedFactor?: number;
}

export interface PlanJob {
  id: string;
  pickup: LatLon;
  dropoff: LatLon;
  weightKg: number;
  /** Epoch ms: pickup not before / pickup no later than / dropoff no later than (the customer's window). */
  notBefore?: number;
  pickupBy?: number;
  deadline?: number;
  /** A drone never to be given this job: its mission for it was aborted by a reschedule (Delivery.abortedDroneId). */
  avoidDroneId?: string;
}

export interface EnergyModel {
  /** Power to fly empty (W) and extra per kg carried (W/kg). */
  basePowerW: number;
  perKgPowerW: number;
  /** Share of the battery never planned into a trip (0.2 = 20 % reserve). */
  reserveFraction: number;
  /** Usable battery capacity the reserve is taken from (Wh). */
  capacityWh: number;
}

export type RejectReason = 'payload' | 'no-fly' | 'wind' | 'range' | 'energy' | 'deadline' | 'window' | 'rescheduled';
/**
 * The order the constraints are checked in: a pair is reported for the first it breaks
 * ('rescheduled', the drone the job was taken from, before all of them).
 */
export const REASONS: readonly RejectReason[] = ['payload', 'no-fly', 'wind', 'range', 'energy', 'deadline', 'window', 'rescheduled'];
const RESCHEDULED = 7;

export interface Trip {
  /**
   * Seconds until the package is at the dropoff, less any wait for the pickup window (spent on
   * the ground before launch): the cost minimised (before any hysteresis bonus).
   */
  costS: number;
  approachS: number; waitS: number; groundS: number; loadedS: number; returnS: number;
  energyWh: number;
  /** Flown distance (routed round no-fly zones) and what the straight legs would be. */
  distanceM: number;
  straightM: number;
  reason: RejectReason | null;
}

export interface PlanOptions {
  /** No-fly zones, already grown by their margin; legs go round them. */
  router?: NoFlyRouter;
  /** Re-optimisation: the current jobId → droneId, kept unless a change saves more than switchPenaltyS. */
  incumbent?: ReadonlyMap<string, string>;
  switchPenaltyS?: number;
}

/**
 * The geometry of one batch on a local tangent plane (equirectangular at the first pickup:
 * under 0.1 % off within 50 km) and the wind triangle done with vectors: the planner scores a
 * million pairs per batch, so nothing here allocates per pair.
 */
export class Batch {
  readonly router: NoFlyRouter | null;
  private readonly kx: number;
  private readonly ky = (Math.PI / 180) * 6_371_008.8;
  private readonly lat0: number;
  private readonly lon0: number;
  private readonly wx: number;
  private readonly wy: number;
  readonly fixedS: number;
  readonly windCannotBlock: boolean;
  /** No course is flown faster over the ground than this (m/s). */
  readonly gsMaxMs: number;
  private readonly preps = new Map<string, PreparedPoint>();

  constructor(readonly p: FlightProfile, readonly e: EnergyModel, origin: LatLon, router?: NoFlyRouter) {
    this.router = router && !router.empty ? router : null;
    this.lat0 = this.router?.lat0 ?? origin.lat;
    this.lon0 = this.router?.lon0 ?? origin.lon;
    this.kx = this.ky * Math.cos((this.lat0 * Math.PI) / 180);
    const toward = p.wind ? ((p.wind.fromDeg + 180) * Math.PI) / 180 : 0;
    this.wx = p.wind ? p.wind.speedMs * Math.sin(toward) : 0;
    this.wy = p.wind ? p.wind.speedMs * Math.cos(toward) : 0;
    this.fixedS = p.cruiseAltM / p.climbRateMs + descentS(p, p.cruiseAltM);
    const w = p.wind?.speedMs ?? 0;
    const limit = p.maxAirspeedMs ?? p.cruiseSpeedMs;
    // groundSpeedFromComponents is never null on any course: crosswind below the limit and the
    // worst headwind still leaves more than 0.5 m/s.
    this.windCannotBlock = w < limit && Math.min(p.cruiseSpeedMs, Math.sqrt(limit * limit - w * w) - w) > 0.5;
    this.gsMaxMs = p.maxAirspeedMs === undefined ? p.cruiseSpeedMs + w : p.cruiseSpeedMs;
  }

  /** Cruise seconds over a straight (dx, dy) in metres at the model's ground speed; Infinity when the wind forbids it. */
  readonly segmentS = (dx: number, dy: number): number => {
    const m = Math.sqrt(dx * dx + dy * dy);
    if (m < 1) return 0;
    const gs = groundSpeedFromComponents(this.p.cruiseSpeedMs, (this.wx * dx + this.wy * dy) / m, (this.wx * dy - this.wy * dx) / m, this.p.maxAirspeedMs);
    return gs === null ? Infinity : m / gs;
  };

  x(p: LatLon): number { return (p.lon - this.lon0) * this.kx; }
  y(p: LatLon): number { return (p.lat - this.lat0) * this.ky; }

  prepared(p: LatLon): PreparedPoint {
    const key = `${p.lat},${p.lon}`;
    let got = this.preps.get(key);
    if (!got) this.preps.set(key, (got = this.router!.prepare(p)));
    return got;
  }

  /** Cruise seconds and metres of the fastest leg a → b, written into out[0], out[1]. */
  leg(a: LatLon, b: LatLon, out: Float64Array): void {
    if (this.router) {
      this.router.legInto(this.prepared(a), this.prepared(b), out, 0);
      return;
    }
    const dx = this.x(b) - this.x(a);
    const dy = this.y(b) - this.y(a);
    out[0] = this.segmentS(dx, dy);
    out[1] = Math.sqrt(dx * dx + dy * dy);
  }
}

const scratch = new Float64Array(2);
const parts = new Float64Array(8);
const legs = new Float64Array(6);
const NONE = -1;
/** Indices into `parts` written by score(). */
const APPROACH = 0, WAIT = 1, GROUND = 2, LOADED = 3, RETURN = 4, ENERGY = 5, DIST = 6, COST = 7;

/**
 * The one scoring rule, allocation-free for the million pairs of a batch: writes the trip's
 * parts into `parts` and answers the index in REASONS of the first hard constraint broken, or
 * NONE. `legs` holds the cruise seconds and metres of approach, loaded and return legs (the
 * payload check comes first, before the caller routes anything).
 */
function score(batch: Batch, e: EnergyModel, d: PlanDrone, j: PlanJob, now: number, legs: Float64Array): number {
  parts[COST] = Infinity;
  const f = d.speedFactor ?? 1;
  const aS = legs[0]!, aM = legs[1]!, loadedS = legs[2]!, loadedM = legs[3]!, cS = legs[4]!, cM = legs[5]!;
  const distanceM = aM + loadedM + cM;
  parts[DIST] = distanceM;
  if (distanceM === Infinity) return 1;
  const approachS = batch.fixedS + aS / f;
  const loaded = batch.fixedS + loadedS / f;
  const returnS = batch.fixedS + cS / f;
  if (!Number.isFinite(approachS + loaded + returnS)) return 2;
  if (distanceM > d.maxRangeM) return 3;
  const waitS = j.notBefore !== undefined ? Math.max(0, (j.notBefore - now) / 1000 - approachS) : 0;
  // The wait for a pickup window is not a cost: the drone spends it on the ground before it
  // launches (the scheduler times the dispatch), and the package arrives with the window either
  // way; what is left to tell drones apart is how long each would fly.
  const costS = approachS + batch.p.groundDelayS + loaded;
  parts[APPROACH] = approachS; parts[WAIT] = waitS; parts[GROUND] = batch.p.groundDelayS; parts[LOADED] = loaded; parts[RETURN] = returnS; parts[COST] = costS;
  // Waiting happens on the ground (motors off); loaded only between pickup and dropoff.
  const energyWh = (e.basePowerW * (approachS + returnS) + (e.basePowerW + e.perKgPowerW * j.weightKg) * loaded) / 3600;
  parts[ENERGY] = energyWh;
  if (energyWh > d.energyWh - e.reserveFraction * e.capacityWh) return 4;
  if (j.deadline !== undefined && now + (costS + waitS) * 1000 > j.deadline) return 5;
  // At the pickup (after the approach) no later than the end of the pickup window.
  if (j.pickupBy !== undefined && now + approachS * 1000 > j.pickupBy) return 6;
  return NONE;
}

/** Flight time, energy and distance of one drone doing one job and flying home; the first hard constraint it breaks. */
export function trip(b: Batch | FlightProfile, e: EnergyModel, d: PlanDrone, j: PlanJob, now: number): Trip {
  const batch = b instanceof Batch ? b : new Batch(b, e, j.pickup);
  parts.fill(0);
  let r = 0;
  if (j.avoidDroneId === d.id) {
    r = RESCHEDULED;
    parts[COST] = Infinity;
  } else if (j.weightKg <= d.maxPayloadKg) {
    batch.leg(d.position, j.pickup, scratch); legs[0] = scratch[0]!; legs[1] = scratch[1]!;
    batch.leg(j.pickup, j.dropoff, scratch); legs[2] = scratch[0]!; legs[3] = scratch[1]!;
    batch.leg(j.dropoff, d.home, scratch); legs[4] = scratch[0]!; legs[5] = scratch[1]!;
    r = score(batch, e, d, j, now, legs);
  } else parts[COST] = Infinity;
  const straightM = straight(batch, d.position, j.pickup) + straight(batch, j.pickup, j.dropoff) + straight(batch, j.dropoff, d.home);
  return {
    costS: parts[COST]!, approachS: parts[APPROACH]!, waitS: parts[WAIT]!, groundS: parts[GROUND]!, loadedS: parts[LOADED]!, returnS: parts[RETURN]!,
    energyWh: r === NONE || (r >= 4 && r < RESCHEDULED) ? parts[ENERGY]! : Infinity, distanceM: parts[DIST]!, straightM, reason: r === NONE ? null : REASONS[r]!,
  };
}

function straight(b: Batch, p: LatLon, q: LatLon): number {
  return Math.hypot(b.x(q) - b.x(p), b.y(q) - b.y(p));
}

/** Bigger than any sum of real costs: one unserved job always costs more than every flight together. */
const UNSERVED = 1e9;

/**
 * The feasible jobs × drones pairs (rows jobs, columns drones) as a sparse problem, and per job
 * how many drones each hard constraint ruled out (counts only: a million trip objects kept
 * would cost more than the solve). The incumbent pair of a job, in re-optimisation, gets the
 * switch penalty as a bonus: another plan wins only when it saves more than that.
 */
export function costGraph(p: FlightProfile, e: EnergyModel, drones: readonly PlanDrone[], jobs: readonly PlanJob[], now: number, o: PlanOptions = {}) {
  const batch = new Batch(p, e, jobs[0]?.pickup ?? { lat: 0, lon: 0 }, o.router);
  const rowStart = new Int32Array(jobs.length + 1);
  let col = new Int32Array(Math.max(16, jobs.length * 8));
  let cost = new Float64Array(col.length);
  let m = 0;
  const rejected = new Uint32Array(jobs.length * REASONS.length);
  const droneIdx = new Map(drones.map((d, k) => [d.id, k]));
  // Planar coordinates (or prepared routing points) once per place, not once per pair.
  const dx = Float64Array.from(drones, (d) => batch.x(d.position)), dy = Float64Array.from(drones, (d) => batch.y(d.position));
  // Drones share bases: the return leg is computed once per job and base, not per pair.
  const baseOf = new Map<string, number>();
  const homeIdx = Int32Array.from(drones, (d) => {
    const key = `${d.home.lat},${d.home.lon}`;
    let b = baseOf.get(key);
    if (b === undefined) baseOf.set(key, (b = baseOf.size));
    return b;
  });
  const bases = [...baseOf.keys()].map((k) => { const [lat, lon] = k.split(',').map(Number); return { lat: lat!, lon: lon! }; });
  const retS = new Float64Array(bases.length);
  const retM = new Float64Array(bases.length);
  const router = batch.router;
  const dPrep = router ? drones.map((d) => batch.prepared(d.position)) : [];

  for (let i = 0; i < jobs.length; i++) {
    const j = jobs[i]!;
    batch.leg(j.pickup, j.dropoff, scratch);
    const loadedS = scratch[0]!, loadedM = scratch[1]!;
    legs[2] = loadedS; legs[3] = loadedM;
    const px = batch.x(j.pickup), py = batch.y(j.pickup);
    const pPrep = router ? batch.prepared(j.pickup) : null;
    for (let b = 0; b < bases.length; b++) { batch.leg(j.dropoff, bases[b]!, scratch); retS[b] = scratch[0]!; retM[b] = scratch[1]!; }
    const loadedW = e.basePowerW + e.perKgPowerW * j.weightKg;
    const quick = batch.windCannotBlock && Number.isFinite(loadedS) && retS.every(Number.isFinite);
    const keep = o.incumbent?.get(j.id);
    const keepK = keep === undefined ? -1 : (droneIdx.get(keep) ?? -1);
    const avoidK = j.avoidDroneId === undefined ? -1 : (droneIdx.get(j.avoidDroneId) ?? -1);
    for (let k = 0; k < drones.length; k++) {
      const d = drones[k]!;
      let r = 0;
      if (k === avoidK) r = RESCHEDULED;
      else if (j.weightKg <= d.maxPayloadKg) {
        const h = homeIdx[k]!;
        legs[4] = retS[h]!; legs[5] = retM[h]!;
        if (router) {
          router.legInto(dPrep[k]!, pPrep!, legs, 0);
          r = score(batch, e, d, j, now, legs);
        } else {
          const ax = px - dx[k]!, ay = py - dy[k]!;
          const aM = Math.sqrt(ax * ax + ay * ay);
          legs[1] = aM;
          // Two thirds of the pairs in a city batch fail on energy: a lower bound on the approach
          // time (at the fastest ground speed any course allows) rejects them without the wind
          // triangle. Same verdict as score(): wind cannot block, range is checked first.
          const f = d.speedFactor ?? 1;
          if (quick && aM + loadedM + retM[h]! <= d.maxRangeM
            && (e.basePowerW * (2 * batch.fixedS + aM / (batch.gsMaxMs * f) + retS[h]! / f) + loadedW * (batch.fixedS + loadedS / f)) / 3600
              > d.energyWh - e.reserveFraction * e.capacityWh) r = 4;
          else {
            legs[0] = batch.segmentS(ax, ay);
            r = score(batch, e, d, j, now, legs);
          }
        }
      }
      if (r !== NONE) { rejected[i * REASONS.length + r]! += 1; continue; }
      if (m === col.length) {
        const c2 = new Int32Array(m * 2); c2.set(col); col = c2;
        const f2 = new Float64Array(m * 2); f2.set(cost); cost = f2;
      }
      col[m] = k;
      cost[m++] = k === keepK ? parts[COST]! - (o.switchPenaltyS ?? 0) : parts[COST]!;
    }
    rowStart[i + 1] = m;
  }
  const problem: SparseProblem = { rows: jobs.length, cols: drones.length, rowStart, col: col.subarray(0, m), cost: cost.subarray(0, m), unservedCost: UNSERVED };
  return { problem, rejected, batch };
}

/** The same problem as a dense square matrix padded with the unserved cost, for the independent dense solver. */
export function denseOf(pr: SparseProblem): { n: number; cost: Float64Array } {
  const n = Math.max(pr.rows, pr.cols);
  const cost = new Float64Array(n * n).fill(pr.unservedCost);
  for (let i = 0; i < pr.rows; i++) for (let e = pr.rowStart[i]!; e < pr.rowStart[i + 1]!; e++) cost[i * n + pr.col[e]!] = pr.cost[e]!;
  return { n, cost };
}

export interface Plan {
  /** jobId → droneId for the jobs served. */
  assignments: Map<string, string>;
  explanations: Explanation[];
  totalCostS: number;
}

/**
 * One batch, solved optimally: serve as many jobs as the hard constraints allow, and among
 * those plans the one with the least total time to the dropoffs (domain/lap.ts).
 */
export function planBatch(p: FlightProfile, e: EnergyModel, drones: readonly PlanDrone[], jobs: readonly PlanJob[], now: number, o: PlanOptions = {}): Plan {
  const { problem, rejected, batch } = costGraph(p, e, drones, jobs, now, o);
  const { rowToCol } = solveSparse(problem);
  const assignments = new Map<string, string>();
  let totalCostS = 0;
  for (let i = 0; i < jobs.length; i++) {
    const k = rowToCol[i]!;
    if (k < 0) continue;
    assignments.set(jobs[i]!.id, drones[k]!.id);
    for (let edge = problem.rowStart[i]!; edge < problem.rowStart[i + 1]!; edge++) if (problem.col[edge] === k) totalCostS += problem.cost[edge]!;
  }
  const explanations = explain({ batch, energy: e, drones, jobs, now, problem, rowToCol, rejected, incumbent: o.incumbent, switchPenaltyS: o.switchPenaltyS ?? 0 });
  return { assignments, explanations, totalCostS };
}

/** Nearest-first, the seed's rule, for comparison: each job in order takes the nearest free drone that can fly it. */
export function planGreedy(p: FlightProfile, e: EnergyModel, drones: readonly PlanDrone[], jobs: readonly PlanJob[], now: number, o: PlanOptions = {}): Plan {
  const batch = new Batch(p, e, jobs[0]?.pickup ?? { lat: 0, lon: 0 }, o.router);
  const used = new Uint8Array(drones.length);
  const assignments = new Map<string, string>();
  let totalCostS = 0;
  for (const j of jobs) {
    let best = -1;
    let bestD = Infinity;
    let bestCost = 0;
    for (let k = 0; k < drones.length; k++) {
      if (used[k]) continue;
      const dist = straight(batch, drones[k]!.position, j.pickup);
      if (dist >= bestD) continue;
      const t = trip(batch, e, drones[k]!, j, now);
      if (t.reason === null) { best = k; bestD = dist; bestCost = t.costS; }
    }
    if (best < 0) continue;
    used[best] = 1;
    assignments.set(j.id, drones[best]!.id);
    totalCostS += bestCost;
  }
  return { assignments, explanations: [], totalCostS };
}
