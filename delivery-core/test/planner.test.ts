import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { solveSparse, type SparseProblem } from '../src/domain/lap.js';
import { solveHungarian } from '../src/domain/hungarian.js';
import { costGraph, denseOf, planBatch, planGreedy, trip, type EnergyModel, type PlanDrone, type PlanJob } from '../src/domain/planner.js';
import { groundSpeedMs } from '../src/domain/wind.js';
import { rng } from '../src/bench/instances.js';
import type { FlightProfile } from '../src/domain/eta.js';

const U = 1e6;

function randomProblem(r: () => number, rows: number, cols: number, density: number): SparseProblem {
  const rowStart = new Int32Array(rows + 1);
  const col: number[] = [];
  const cost: number[] = [];
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) if (r() < density) { col.push(j); cost.push(Math.round(r() * 100)); }
    rowStart[i + 1] = col.length;
  }
  return { rows, cols, rowStart, col: Int32Array.from(col), cost: Float64Array.from(cost), unservedCost: U };
}

/** Every assignment of rows to distinct columns or to nothing: the ground truth for tiny problems. */
function bruteForce(pr: SparseProblem): number {
  const c = (i: number, j: number) => {
    for (let e = pr.rowStart[i]!; e < pr.rowStart[i + 1]!; e++) if (pr.col[e] === j) return pr.cost[e]!;
    return Infinity;
  };
  const used = new Array<boolean>(pr.cols).fill(false);
  const go = (i: number): number => {
    if (i === pr.rows) return 0;
    let best = U + go(i + 1);
    for (let j = 0; j < pr.cols; j++) {
      if (used[j] || c(i, j) === Infinity) continue;
      used[j] = true;
      best = Math.min(best, c(i, j) + go(i + 1));
      used[j] = false;
    }
    return best;
  };
  return go(0);
}

const profile: FlightProfile = { cruiseSpeedMs: 12, climbRateMs: 3, descentRateMs: 1.5, cruiseAltM: 30, groundDelayS: 30 };
const energy: EnergyModel = { basePowerW: 450, perKgPowerW: 90, reserveFraction: 0.2, capacityWh: 250 };
const base = { lat: 47.3769, lon: 8.5417 };
const drone = (id: string, dLat: number, o: Partial<PlanDrone> = {}): PlanDrone => ({
  id, position: { lat: base.lat + dLat, lon: base.lon }, home: { lat: base.lat + dLat, lon: base.lon }, maxPayloadKg: 2, energyWh: 250, maxRangeM: 30_000, ...o,
});
const job = (id: string, dLat: number, o: Partial<PlanJob> = {}): PlanJob => ({
  id, pickup: { lat: base.lat + dLat, lon: base.lon + 0.01 }, dropoff: { lat: base.lat + dLat, lon: base.lon + 0.02 }, weightKg: 1, ...o,
});

describe('exact assignment', () => {
  it('matches brute force on 300 small random problems, rectangular and partly infeasible', () => {
    const r = rng(1);
    for (let t = 0; t < 300; t++) {
      const pr = randomProblem(r, 1 + Math.floor(r() * 6), 1 + Math.floor(r() * 6), 0.2 + r() * 0.8);
      expect(solveSparse(pr).total).toBe(bruteForce(pr));
    }
  });

  it('matches the dense Hungarian method on 40 random 60×60 problems', () => {
    const r = rng(2);
    for (let t = 0; t < 40; t++) {
      const pr = randomProblem(r, 60, 40 + Math.floor(r() * 40), 0.1 + r() * 0.5);
      const { n, cost } = denseOf(pr);
      const dense = solveHungarian(n, cost).total;
      // The dense matrix pads missing rows with unserved-cost columns: same optimum, counted per real row.
      const padding = (n - pr.rows) * U;
      expect(solveSparse(pr).total).toBeCloseTo(dense - padding, 6);
    }
  });
});

describe('planner hard constraints and explanations', () => {
  it('refuses a drone that cannot lift the package, lacks energy with reserve, range, or the deadline', () => {
    const now = 0;
    expect(trip(profile, energy, drone('d', 0), job('j', 0, { weightKg: 3 }), now).reason).toBe('payload');
    expect(trip(profile, energy, drone('d', 0, { energyWh: 55 }), job('j', 0), now).reason).toBe('energy');
    expect(trip(profile, energy, drone('d', 0, { maxRangeM: 1000 }), job('j', 0), now).reason).toBe('range');
    expect(trip(profile, energy, drone('d', 0), job('j', 0, { deadline: 60_000 }), now).reason).toBe('deadline');
    expect(trip(profile, energy, drone('d', 0), job('j', 0), now).reason).toBeNull();
  });

  it('flies slower into a headwind than with a tailwind, and refuses a wind it cannot beat', () => {
    expect(groundSpeedMs(12, 90, { speedMs: 5, fromDeg: 90 })).toBeCloseTo(7, 6);
    expect(groundSpeedMs(12, 90, { speedMs: 5, fromDeg: 270 })).toBeCloseTo(17, 6);
    expect(groundSpeedMs(12, 0, { speedMs: 13, fromDeg: 90 })).toBeNull();
    const windy = { ...profile, wind: { speedMs: 11.9, fromDeg: 90 } };
    expect(trip(windy, energy, drone('d', 0), job('j', 0), 0).reason).not.toBeNull();
  });

  it('counts the wind in the whole trip\'s energy: a battery that makes the round trip plus reserve in calm air is refused for energy in a wind it can beat', () => {
    const windy = { ...profile, wind: { speedMs: 6, fromDeg: 90 } };
    const calm = trip(profile, energy, drone('d', 0), job('j', 0), 0);
    const blown = trip(windy, energy, drone('d', 0), job('j', 0), 0);
    expect([calm.reason, blown.reason]).toEqual([null, null]);
    // Out east into the wind, back with it: slower out than faster back, so more time aloft.
    expect(blown.energyWh).toBeGreaterThan(calm.energyWh * 1.05);
    // Between the two needs, above the reserve (reserveFraction of capacity) that must stay in the pack.
    const between = energy.reserveFraction * energy.capacityWh + (calm.energyWh + blown.energyWh) / 2;
    expect(trip(profile, energy, drone('d', 0, { energyWh: between }), job('j', 0), 0).reason).toBeNull();
    expect(trip(windy, energy, drone('d', 0, { energyWh: between }), job('j', 0), 0).reason).toBe('energy');
  });

  it('gives the heavy parcel to the only drone that can lift it, where nearest-first strands it', () => {
    // The heavy lifter is nearest to the light job, which comes first in the queue.
    const drones = [drone('heavy', 0, { maxPayloadKg: 5 }), drone('light', 0.02)];
    const jobs = [job('light-job', 0), job('heavy-job', 0.01, { weightKg: 4 })];
    const greedy = planGreedy(profile, energy, drones, jobs, 0);
    expect(greedy.assignments.get('light-job')).toBe('heavy');
    expect(greedy.assignments.has('heavy-job')).toBe(false);
    const plan = planBatch(profile, energy, drones, jobs, 0);
    expect(Object.fromEntries(plan.assignments)).toEqual({ 'light-job': 'light', 'heavy-job': 'heavy' });
    const why = plan.explanations.find((x) => x.jobId === 'heavy-job')!;
    expect(why).toMatchObject({ droneId: 'heavy', feasible: 1, rejected: { payload: 1 }, runnerUp: null });
    expect(plan.explanations.find((x) => x.jobId === 'light-job')!.runnerUp?.droneId).toBe('heavy');
  });

  it('agrees with the cost graph it solved', () => {
    const drones = [drone('a', 0), drone('b', 0.01), drone('c', 0.03)];
    const jobs = [job('x', 0.005), job('y', 0.025)];
    const { problem } = costGraph(profile, energy, drones, jobs, 0);
    expect(planBatch(profile, energy, drones, jobs, 0).totalCostS).toBeCloseTo(solveSparse(problem).total, 6);
  });
});

describe('bench:assign smoke', () => {
  it('prints its figures as one JSON object on the last line, with a zero gap', () => {
    const script = fileURLToPath(new URL('../dist/bench/assign.js', import.meta.url));
    const out = execFileSync(process.execPath, [script, '--smoke'], { encoding: 'utf8', timeout: 120_000 });
    const last = JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, number | string>;
    expect(Object.keys(last).slice(0, 6)).toEqual(['bench', 'n', 'ms', 'gap', 'greedy_unserved_pct', 'greedy_extra_distance_pct']);
    expect(last.gap).toBe(0);
    expect(last.greedy_unserved_pct as number).toBeGreaterThanOrEqual(last.optimal_unserved_pct as number);
  });
});

describe('re-optimisation hysteresis and explanations', () => {
  const now = 0;
  // Two drones almost equally far from one job: b is 50 m nearer, a few seconds cheaper.
  const drones = [drone('a', 0.0105), drone('b', 0.01)];
  const jobs = [job('x', 0.0)];

  it('keeps the incumbent drone unless another saves more than the switch penalty', () => {
    const fresh = planBatch(profile, energy, drones, jobs, now);
    expect(fresh.assignments.get('x')).toBe('b');
    const kept = planBatch(profile, energy, drones, jobs, now, { incumbent: new Map([['x', 'a']]), switchPenaltyS: 30 });
    expect(kept.assignments.get('x')).toBe('a');
    expect(kept.explanations[0]).toMatchObject({ droneId: 'a', kept: true });
    // The reported cost is the trip's own, not the bonus-adjusted one.
    expect(kept.explanations[0]!.costS).toBeGreaterThan(fresh.explanations[0]!.costS!);
    const far = [drone('a', 0.05), drone('b', 0.01)];
    expect(planBatch(profile, energy, far, jobs, now, { incumbent: new Map([['x', 'a']]), switchPenaltyS: 30 }).assignments.get('x')).toBe('b');
  });

  it('explains the chosen cost in parts and why each alternative lost: taken, dearer, or a broken constraint', () => {
    const ds = [drone('near', 0), drone('mid', 0.004), drone('weak', 0.001, { maxPayloadKg: 0.5 }), drone('far', 0.03)];
    const js = [job('j1', 0), job('j2', 0.002)];
    const plan = planBatch(profile, energy, ds, js, now);
    const e = plan.explanations.find((x) => x.jobId === 'j1')!;
    const b = e.breakdown!;
    expect(b.approachS + b.waitS + b.groundS + b.loadedS).toBeCloseTo(e.costS!, 6);
    expect(b.energyWh).toBeGreaterThan(0);
    const other = plan.assignments.get('j2');
    const why = Object.fromEntries(e.alternatives.map((a) => [a.droneId, a]));
    expect(why[other!]).toMatchObject({ why: 'taken', takenBy: 'j2' });
    expect(why.weak).toMatchObject({ why: 'payload', costS: null });
    const free = ds.map((d) => d.id).find((id) => id !== e.droneId && id !== other && id !== 'weak')!;
    expect(why[free]).toMatchObject({ why: 'higher-cost' });
    expect(why[free]!.costS!).toBeGreaterThan(e.costS!);
  });
});

describe('decomposed exact solver', () => {
  it('agrees with brute force when many rows cannot all be served (unmatched rows, shared columns)', () => {
    const r = rng(9);
    for (let t = 0; t < 200; t++) {
      // Few columns, many rows, sparse: the Dulmage–Mendelsohn split has both parts non-empty.
      const pr = randomProblem(r, 3 + Math.floor(r() * 4), 1 + Math.floor(r() * 3), 0.2 + r() * 0.5);
      expect(solveSparse(pr).total).toBe(bruteForce(pr));
    }
  });
});
