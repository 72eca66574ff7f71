import type { SparseProblem } from './lap.js';
import { REASONS, trip, type Batch, type EnergyModel, type PlanDrone, type PlanJob, type RejectReason, type Trip } from './planner.js';

/** Why one alternative drone did not get the job. */
export interface Alternative {
  droneId: string;
  costS: number | null;
  /**
   * 'higher-cost': the plan is cheaper without it (it was free, or its job costs the plan less);
   * 'taken': it flies another job, and swapping would cost the plan more; or the hard
   * constraint it breaks for this job.
   */
  why: 'higher-cost' | 'taken' | RejectReason;
  /** The job it flies instead, when taken. */
  takenBy?: string;
}

export interface Explanation {
  jobId: string;
  droneId: string | null;
  /** Seconds of flight until the package is at the dropoff (a wait for the pickup window not counted); the cost minimised. */
  costS: number | null;
  /** The chosen trip in parts (s, Wh, m); distance is routed round no-fly zones. */
  breakdown: Pick<Trip, 'approachS' | 'waitS' | 'groundS' | 'loadedS' | 'returnS' | 'energyWh' | 'distanceM' | 'straightM'> | null;
  /** Kept from the previous pass (re-optimisation hysteresis). */
  kept: boolean;
  /** How many drones were feasible, and why the others were not. */
  feasible: number;
  rejected: Partial<Record<RejectReason, number>>;
  /** The cheapest drone not chosen and its cost, when there was one. */
  runnerUp: { droneId: string; costS: number } | null;
  /** The three cheapest feasible drones not chosen, then the three nearest infeasible ones. */
  alternatives: Alternative[];
}

export interface ExplainInput {
  batch: Batch;
  energy: EnergyModel;
  drones: readonly PlanDrone[];
  jobs: readonly PlanJob[];
  now: number;
  problem: SparseProblem;
  rowToCol: Int32Array;
  rejected: Uint32Array;
  incumbent: ReadonlyMap<string, string> | undefined;
  switchPenaltyS: number;
}

const TOP = 3;

/**
 * Explanations for a solved batch. Feasible alternatives come from the cost graph itself;
 * the nearest infeasible drones are re-scored (three trips per job) to name the constraint.
 */
export function explain(x: ExplainInput): Explanation[] {
  const { batch, drones, jobs, problem, rowToCol } = x;
  const jobOf = new Int32Array(drones.length).fill(-1);
  for (let i = 0; i < jobs.length; i++) if (rowToCol[i]! >= 0) jobOf[rowToCol[i]!] = i;
  const px = Float64Array.from(drones, (d) => batch.x(d.position));
  const py = Float64Array.from(drones, (d) => batch.y(d.position));
  const out: Explanation[] = [];
  const feasibleK = new Uint8Array(drones.length);
  for (let i = 0; i < jobs.length; i++) {
    const j = jobs[i]!;
    const chosen = rowToCol[i]!;
    const rejected: Explanation['rejected'] = {};
    REASONS.forEach((r, q) => { const c = x.rejected[i * REASONS.length + q]!; if (c > 0) rejected[r] = c; });
    const cheapest: { k: number; c: number }[] = [];
    for (let e = problem.rowStart[i]!; e < problem.rowStart[i + 1]!; e++) {
      const k = problem.col[e]!;
      feasibleK[k] = 1;
      if (k === chosen) continue;
      // The graph's cost may carry the incumbent bonus; report the trip's own cost.
      const c = x.incumbent?.get(j.id) === drones[k]!.id ? problem.cost[e]! + x.switchPenaltyS : problem.cost[e]!;
      if (cheapest.length === TOP && c >= cheapest[TOP - 1]!.c) continue;
      let at = cheapest.length < TOP ? cheapest.length : TOP - 1;
      while (at > 0 && cheapest[at - 1]!.c > c) { cheapest[at] = cheapest[at - 1]!; at--; }
      cheapest[at] = { k, c };
    }
    const alternatives: Alternative[] = cheapest.map(({ k, c }) => {
      const other = jobOf[k]!;
      return other >= 0 ? { droneId: drones[k]!.id, costS: c, why: 'taken' as const, takenBy: jobs[other]!.id } : { droneId: drones[k]!.id, costS: c, why: 'higher-cost' as const };
    });
    // The nearest infeasible drones: the ones a dispatcher would have tried first.
    const jx = batch.x(j.pickup);
    const jy = batch.y(j.pickup);
    const near: { k: number; d: number }[] = [];
    for (let k = 0; k < drones.length; k++) {
      if (feasibleK[k]) continue;
      const d = (px[k]! - jx) ** 2 + (py[k]! - jy) ** 2;
      if (near.length < TOP || d < near[near.length - 1]!.d) {
        near.push({ k, d });
        near.sort((a, b) => a.d - b.d);
        if (near.length > TOP) near.pop();
      }
    }
    for (let e = problem.rowStart[i]!; e < problem.rowStart[i + 1]!; e++) feasibleK[problem.col[e]!] = 0;
    for (const { k } of near) {
      const t = trip(batch, x.energy, drones[k]!, j, x.now);
      alternatives.push({ droneId: drones[k]!.id, costS: Number.isFinite(t.costS) ? t.costS : null, why: t.reason ?? 'higher-cost' });
    }
    const t = chosen >= 0 ? trip(batch, x.energy, drones[chosen]!, j, x.now) : null;
    const best = cheapest[0];
    out.push({
      jobId: j.id,
      droneId: chosen >= 0 ? drones[chosen]!.id : null,
      costS: t ? t.costS : null,
      breakdown: t ? { approachS: t.approachS, waitS: t.waitS, groundS: t.groundS, loadedS: t.loadedS, returnS: t.returnS, energyWh: t.energyWh, distanceM: t.distanceM, straightM: t.straightM } : null,
      kept: chosen >= 0 && x.incumbent?.get(j.id) === drones[chosen]!.id,
      feasible: problem.rowStart[i + 1]! - problem.rowStart[i]!,
      rejected,
      runnerUp: best ? { droneId: drones[best.k]!.id, costS: best.c } : null,
      alternatives,
    });
  }
  return out;
}
