import { haversineM, type LatLon } from '@aerie/contracts';
import { descentS, type FlightProfile } from './eta.js';
import { groundSpeedFromComponents } from './wind.js';
import { solveSparse, type SparseProblem } from './lap.js';

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
  /** Epoch ms: pickup not before / dropoff no later than. */
  notBefore?: number;
  deadline?: number;
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

export type RejectReason = 'payload' | 'energy' | 'range' | 'deadline' | 'wind';

export interface Explanation {
  jobId: string;
  droneId: string | null;
  /** Seconds of flight until the package is at the dropoff; the cost minimised. */
  costS: number | null;
  /** How many drones were feasible, and why the others were not. */
  feasible: number;
  rejected: Partial<Record<RejectReason, number>>;
  /** The cheapest drone not chosen and its cost, when there was one: what the global optimum gave up for this job. */
  runnerUp: { droneId: string; costS: number } | null;
}

export interface Trip {
  costS: number;
  energyWh: number;
  distanceM: number;
  reason: RejectReason | null;
}

const EARTH_M = 6_371_008.8;
const RAD = Math.PI / 180;

/**
 * The planner scores a million pairs per batch, so it flies on a local tangent plane
 * (equirectangular at the job's latitude: under 0.1 % off the great circle within 50 km) and
 * does the wind triangle with vectors instead of trigonometry.
 */
function legTimeS(p: FlightProfile, a: LatLon, b: LatLon, cosLat: number, wx: number, wy: number, f: number): { s: number; m: number } {
  const dx = (b.lon - a.lon) * RAD * EARTH_M * cosLat;
  const dy = (b.lat - a.lat) * RAD * EARTH_M;
  const m = Math.sqrt(dx * dx + dy * dy);
  const fixed = p.cruiseAltM / p.climbRateMs + descentS(p, p.cruiseAltM);
  if (m < 1) return { s: fixed, m };
  const gs = groundSpeedFromComponents(p.cruiseSpeedMs, (wx * dx + wy * dy) / m, (wx * dy - wy * dx) / m, p.maxAirspeedMs);
  return { s: gs === null ? Infinity : fixed + m / (gs * f), m };
}

/** The wind as the vector the air moves along (east, north), m/s. */
function windVector(p: FlightProfile): [number, number] {
  if (!p.wind) return [0, 0];
  const toward = (p.wind.fromDeg + 180) * RAD;
  return [p.wind.speedMs * Math.sin(toward), p.wind.speedMs * Math.cos(toward)];
}

/** What of a job's trip does not depend on the drone: computed once per job, not per pair. */
export interface JobPrep {
  cosLat: number;
  wx: number;
  wy: number;
  loaded: { m: number; gs: number | null; fixed: number };
}

export function prepareJob(p: FlightProfile, j: PlanJob): JobPrep {
  const [wx, wy] = windVector(p);
  const cosLat = Math.cos(j.pickup.lat * RAD);
  const dx = (j.dropoff.lon - j.pickup.lon) * RAD * EARTH_M * cosLat;
  const dy = (j.dropoff.lat - j.pickup.lat) * RAD * EARTH_M;
  const m = Math.sqrt(dx * dx + dy * dy);
  const gs = m < 1 ? p.cruiseSpeedMs : groundSpeedFromComponents(p.cruiseSpeedMs, (wx * dx + wy * dy) / m, (wx * dy - wy * dx) / m, p.maxAirspeedMs);
  return { cosLat, wx, wy, loaded: { m, gs, fixed: p.cruiseAltM / p.climbRateMs + descentS(p, p.cruiseAltM) } };
}

/** Flight time, energy and distance of one drone doing one job and flying home; the first hard constraint it breaks. */
export function trip(p: FlightProfile, e: EnergyModel, d: PlanDrone, j: PlanJob, now: number, prep: JobPrep = prepareJob(p, j)): Trip {
  if (j.weightKg > d.maxPayloadKg) return { costS: Infinity, energyWh: Infinity, distanceM: Infinity, reason: 'payload' };
  const { cosLat, wx, wy, loaded } = prep;
  const f = d.speedFactor ?? 1;
  const a = legTimeS(p, d.position, j.pickup, cosLat, wx, wy, f);
  const b = { s: loaded.m < 1 ? loaded.fixed : loaded.gs === null ? Infinity : loaded.fixed + loaded.m / (loaded.gs * f), m: loaded.m };
  const c = legTimeS(p, j.dropoff, d.home, cosLat, wx, wy, f);
  const distanceM = a.m + b.m + c.m;
  if (distanceM > d.maxRangeM) return { costS: Infinity, energyWh: Infinity, distanceM, reason: 'range' };
  if (!Number.isFinite(a.s + b.s + c.s)) return { costS: Infinity, energyWh: Infinity, distanceM, reason: 'wind' };
  const wait = j.notBefore !== undefined ? Math.max(0, (j.notBefore - now) / 1000 - a.s) : 0;
  const costS = a.s + wait + p.groundDelayS + b.s;
  if (j.deadline !== undefined && now + costS * 1000 > j.deadline) return { costS, energyWh: Infinity, distanceM, reason: 'deadline' };
  // Waiting happens on the ground (motors off); loaded only between pickup and dropoff.
  const energyWh = (e.basePowerW * (a.s + c.s) + (e.basePowerW + e.perKgPowerW * j.weightKg) * b.s) / 3600;
  if (energyWh > d.energyWh - e.reserveFraction * e.capacityWh) return { costS, energyWh, distanceM, reason: 'energy' };
  return { costS, energyWh, distanceM, reason: null };
}

/** Bigger than any sum of real costs: one unserved job always costs more than every flight together. */
const UNSERVED = 1e9;

const REASONS: readonly RejectReason[] = ['payload', 'energy', 'range', 'deadline', 'wind'];

/**
 * The feasible jobs × drones pairs (rows jobs, columns drones) as a sparse problem, and per job
 * how many drones each hard constraint ruled out (only counts are kept: a million trip objects
 * retained would cost more than the solve).
 */
export function costGraph(p: FlightProfile, e: EnergyModel, drones: readonly PlanDrone[], jobs: readonly PlanJob[], now: number) {
  const rowStart = new Int32Array(jobs.length + 1);
  const col: number[] = [];
  const cost: number[] = [];
  const rejected = new Uint32Array(jobs.length * REASONS.length);
  for (let i = 0; i < jobs.length; i++) {
    const prep = prepareJob(p, jobs[i]!);
    for (let k = 0; k < drones.length; k++) {
      const t = trip(p, e, drones[k]!, jobs[i]!, now, prep);
      if (t.reason === null) { col.push(k); cost.push(t.costS); }
      else rejected[i * REASONS.length + REASONS.indexOf(t.reason)]! += 1;
    }
    rowStart[i + 1] = col.length;
  }
  const problem: SparseProblem = { rows: jobs.length, cols: drones.length, rowStart, col: Int32Array.from(col), cost: Float64Array.from(cost), unservedCost: UNSERVED };
  return { problem, rejected };
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
 * those plans the one with the least total flight time (a linear assignment over the
 * jobs × drones cost matrix, padded square with the "unserved" cost).
 */
export function planBatch(p: FlightProfile, e: EnergyModel, drones: readonly PlanDrone[], jobs: readonly PlanJob[], now: number): Plan {
  const { problem, rejected: counts } = costGraph(p, e, drones, jobs, now);
  const { rowToCol } = solveSparse(problem);
  const assignments = new Map<string, string>();
  const explanations: Explanation[] = [];
  let totalCostS = 0;
  for (let i = 0; i < jobs.length; i++) {
    const chosen = rowToCol[i]!;
    const rejected: Explanation['rejected'] = {};
    REASONS.forEach((r, q) => { const c = counts[i * REASONS.length + q]!; if (c > 0) rejected[r] = c; });
    let costS: number | null = null;
    let runnerUp: Explanation['runnerUp'] = null;
    for (let edge = problem.rowStart[i]!; edge < problem.rowStart[i + 1]!; edge++) {
      const k = problem.col[edge]!;
      const c = problem.cost[edge]!;
      if (k === chosen) costS = c;
      else if (runnerUp === null || c < runnerUp.costS) runnerUp = { droneId: drones[k]!.id, costS: c };
    }
    if (chosen >= 0) {
      assignments.set(jobs[i]!.id, drones[chosen]!.id);
      totalCostS += costS!;
    }
    explanations.push({ jobId: jobs[i]!.id, droneId: chosen >= 0 ? drones[chosen]!.id : null, costS, feasible: problem.rowStart[i + 1]! - problem.rowStart[i]!, rejected, runnerUp });
  }
  return { assignments, explanations, totalCostS };
}

/** Nearest-first, the seed's rule, for comparison: each job in order takes the nearest free drone that can fly it. */
export function planGreedy(p: FlightProfile, e: EnergyModel, drones: readonly PlanDrone[], jobs: readonly PlanJob[], now: number): Plan {
  const used = new Uint8Array(drones.length);
  const assignments = new Map<string, string>();
  let totalCostS = 0;
  for (const j of jobs) {
    let best = -1;
    let bestD = Infinity;
    for (let k = 0; k < drones.length; k++) {
      if (used[k]) continue;
      const dist = haversineM(drones[k]!.position, j.pickup);
      if (dist < bestD && trip(p, e, drones[k]!, j, now).reason === null) { best = k; bestD = dist; }
    }
    if (best < 0) continue;
    used[best] = 1;
    assignments.set(j.id, drones[best]!.id);
    totalCostS += trip(p, e, drones[best]!, j, now).costS;
  }
  return { assignments, explanations: [], totalCostS };
}
