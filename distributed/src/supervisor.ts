import { renameSync, writeFileSync } from 'node:fs';
import type { Started } from './child.js';
import { groupAndDescendants, killAll, procId, signalGroup, stillRunning, waitGone, type ProcId } from './proc.js';

/** One supervised process: how to start it, when it is ready, how to stop it. */
export interface UnitSpec {
  name: string;
  /** Start order: lower tiers start (and become ready) first and stop last. */
  tier: number;
  start(): Promise<Started>;
  /** One readiness probe of the running incarnation (its /readyz, its port, a query). */
  probe(): Promise<boolean>;
  /**
   * One liveness probe (a service's /livez, answered within its timeout). Absent for the
   * engines: they have no /livez, and their port check (probe) is all there is.
   */
  live?(timeoutMs: number): Promise<boolean>;
  /** What it answers on, for state.json (ports, urls, data dir). */
  info?: Record<string, unknown>;
  /** SIGTERM unless the program wants another (PostgreSQL: SIGINT, the fast shutdown). */
  stopSignal?: NodeJS.Signals;
  /** How long a stop waits before SIGKILL of the group (default 20 s, the services' own grace). */
  graceMs?: number;
}

export interface ProcessInfo {
  name: string;
  pid: number;
  restarts: number;
  ready: boolean;
  /** Incarnations SIGKILLed for failing their liveness probe (each also counted in restarts once restarted). */
  livenessKills: number;
}

interface Unit {
  spec: UnitSpec;
  run: Started | null;
  /** Processes of the current incarnation, taken when it ends or is killed, cleaned up at stop. */
  leftovers: ProcId[];
  ready: boolean;
  restarts: number;
  livenessKills: number;
  upSince: number;
  backoffMs: number;
  incarnation: number;
  timer: NodeJS.Timeout | null;
  waiters: (() => void)[];
}

const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5_000;
/** An incarnation up this long starts the backoff over (systemd's StartLimitIntervalSec in spirit). */
const BACKOFF_RESET_AFTER_MS = 30_000;
/** How often a ready process's readiness is checked again. */
const READY_RECHECK_MS = 1_000;

/**
 * Liveness (Kubernetes' livenessProbe): a child that is alive but hung (event loop blocked,
 * server stopped) never exits, so the exit path alone would leave it not ready forever. After
 * `failureThreshold` consecutive failed probes, `periodMs` apart, its group is SIGKILLed and the
 * restart path runs. Probing starts once the incarnation was ready (as a startupProbe would gate
 * it): a slow start is the readiness timeout's business, not a reason to kill.
 */
export interface LivenessOptions {
  /** Consecutive failures before the kill (Kubernetes' default failureThreshold: 3). */
  failureThreshold: number;
  /** Between probes (Kubernetes' periodSeconds, default 10 s). */
  periodMs: number;
  /** A probe not answered within this fails (Kubernetes' timeoutSeconds). */
  timeoutMs: number;
}
/**
 * A hang is killed after about 30–45 s (Kubernetes' defaults give 30 s): lenient on purpose — on
 * this 2-core machine under a soak or a fault bench a busy service answers /livez late, and a
 * slow answer is not a dead process.
 */
export const LIVENESS_DEFAULTS: Readonly<LivenessOptions> = Object.freeze({ failureThreshold: 3, periodMs: 10_000, timeoutMs: 5_000 });

export interface SupervisorOptions {
  restart: boolean;
  stateFile: string;
  /** Extra fields written into state.json beside the processes. */
  state: () => Record<string, unknown>;
  log: (line: string) => void;
  /** Of the units that have a `live` probe; LIVENESS_DEFAULTS when absent. */
  liveness?: Partial<LivenessOptions>;
}

/**
 * Starts units tier by tier, restarts one that exits (backoff 100 ms doubling to 5 s, reset after
 * 30 s up) or that hangs (liveness: SIGKILL after K failed probes, then the same path), counts restarts, tracks readiness, writes state.json, and stops everything in
 * reverse order with a grace before SIGKILL. Each unit is a process group of its own.
 */
export class Supervisor {
  private readonly units = new Map<string, Unit>();
  private stopping = false;
  private stateDirty = false;
  private stopped = false;
  private readonly liveness: LivenessOptions;

  constructor(private readonly o: SupervisorOptions) {
    this.liveness = { ...LIVENESS_DEFAULTS, ...o.liveness };
    const { failureThreshold: k, periodMs, timeoutMs } = this.liveness;
    if (!Number.isInteger(k) || k < 1 || !Number.isFinite(periodMs) || periodMs < 10 || !Number.isFinite(timeoutMs) || timeoutMs < 10) {
      throw new Error(`liveness needs an integer failureThreshold ≥ 1, periodMs ≥ 10 and timeoutMs ≥ 10 (got ${k}, ${periodMs}, ${timeoutMs})`);
    }
  }

  names(): string[] {
    return [...this.units.keys()];
  }

  processes(): ProcessInfo[] {
    return [...this.units.values()].map((u) => ({ name: u.spec.name, pid: u.run?.pid ?? 0, restarts: u.restarts, ready: u.ready, livenessKills: u.livenessKills }));
  }

  /** Starts `specs` (one tier) together and resolves once each is ready; throws with the unit's name otherwise. */
  async startTier(specs: readonly UnitSpec[], readyTimeoutMs: number): Promise<void> {
    for (const spec of specs) {
      if (this.units.has(spec.name)) throw new Error(`unit ${spec.name} exists`);
      this.units.set(spec.name, { spec, run: null, leftovers: [], ready: false, restarts: 0, livenessKills: 0, upSince: 0, backoffMs: BACKOFF_MIN_MS, incarnation: 0, timer: null, waiters: [] });
    }
    await Promise.all(specs.map(async (spec) => {
      const u = this.units.get(spec.name)!;
      await this.launch(u, true);
      await this.waitReady(spec.name, readyTimeoutMs);
    }));
  }

  private async launch(u: Unit, first: boolean): Promise<void> {
    const incarnation = ++u.incarnation;
    let run: Started;
    try {
      run = await u.spec.start();
    } catch (err) {
      // A first start that cannot even spawn (a binary missing, a bad config) fails the launch.
      if (first) throw new Error(`${u.spec.name}: ${(err as Error).message}`, { cause: err });
      this.o.log(`${u.spec.name}: start failed: ${(err as Error).message}`);
      this.scheduleRestart(u);
      return;
    }
    if (this.stopping) return void signalGroup(run.pid, 'SIGKILL');
    u.run = run;
    u.upSince = Date.now();
    u.ready = false;
    this.o.log(`${u.spec.name}: started pid ${run.pid}${u.restarts ? ` (restart ${u.restarts})` : ''}`);
    this.changed();
    void run.exited.then((how) => this.onExit(u, incarnation, how));
    void this.watchReady(u, incarnation);
    if (u.spec.live) void this.watchLive(u, incarnation, run.pid);
  }

  /** Liveness of one incarnation (LivenessOptions): K failures in a row, and its group is killed. */
  private async watchLive(u: Unit, incarnation: number, pid: number): Promise<void> {
    const current = () => u.incarnation === incarnation && u.run?.pid === pid && !this.stopping;
    const { failureThreshold, periodMs, timeoutMs } = this.liveness;
    // Once ready: a start still under way is not a hang.
    while (current() && !u.ready) await new Promise((r) => setTimeout(r, 50));
    let failures = 0;
    while (current()) {
      await new Promise((r) => setTimeout(r, periodMs));
      if (!current()) return;
      const ok = await u.spec.live!(timeoutMs).catch(() => false);
      if (!current()) return;
      failures = ok ? 0 : failures + 1;
      if (failures < failureThreshold) continue;
      u.livenessKills += 1;
      this.o.log(`${u.spec.name}: liveness probe failed ${failures} times in a row (every ${periodMs} ms): SIGKILL of pid ${pid}'s group, to be restarted`);
      u.leftovers.push(...groupAndDescendants(pid));
      signalGroup(pid, 'SIGKILL');
      // The exit path (onExit) takes over from here: restart with backoff, counted.
      return;
    }
  }

  /**
   * Probes until the incarnation is ready, then keeps probing every second for as long as it
   * runs: a service whose dependency went away answers 503 on /readyz and shows not ready until
   * it is back (Kubernetes' readiness probe; nothing is restarted for it).
   */
  private async watchReady(u: Unit, incarnation: number): Promise<void> {
    let every = 50;
    let failures = 0;
    while (u.incarnation === incarnation && u.run && !this.stopping) {
      const ok = await u.spec.probe().catch(() => false);
      if (u.incarnation !== incarnation || !u.run || this.stopping) return;
      // Once ready, one failed probe on a busy machine is not an outage: two in a row are.
      failures = ok ? 0 : failures + 1;
      const ready = ok || (u.ready && failures < 2);
      if (ready !== u.ready) {
        u.ready = ready;
        this.o.log(`${u.spec.name}: ${ready ? 'ready' : 'not ready'}`);
        if (ready) for (const w of u.waiters.splice(0)) w();
        this.changed();
      }
      await new Promise((r) => setTimeout(r, u.ready ? READY_RECHECK_MS : every));
      every = Math.min(every * 2, 500);
    }
  }

  private onExit(u: Unit, incarnation: number, how: string): void {
    if (u.incarnation !== incarnation) return;
    const pid = u.run?.pid ?? 0;
    // What the leader leaves behind in its group (nginx workers) goes with it; descendants in
    // other sessions (PostgreSQL backends) end on their own when they see the postmaster gone.
    if (pid) {
      u.leftovers.push(...groupAndDescendants(pid));
      signalGroup(pid, 'SIGKILL');
    }
    u.run = null;
    u.ready = false;
    this.changed();
    if (this.stopping) return;
    this.o.log(`${u.spec.name}: pid ${pid} ended (${how})`);
    if (this.o.restart) this.scheduleRestart(u);
  }

  private scheduleRestart(u: Unit): void {
    if (Date.now() - u.upSince >= BACKOFF_RESET_AFTER_MS) u.backoffMs = BACKOFF_MIN_MS;
    const delay = u.backoffMs;
    u.backoffMs = Math.min(u.backoffMs * 2, BACKOFF_MAX_MS);
    u.timer = setTimeout(() => {
      u.timer = null;
      if (this.stopping) return;
      u.restarts += 1;
      void this.launch(u, false);
    }, delay);
  }

  /** Signals the unit's whole group (SIGKILL by default) and resolves once its leader exited; the supervisor restarts it. */
  async kill(name: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const u = this.unit(name);
    const run = u.run;
    if (!run) throw new Error(`${name} is not running`);
    u.leftovers.push(...groupAndDescendants(run.pid));
    signalGroup(run.pid, signal);
    await run.exited;
  }

  /** Resolves when the unit's current incarnation is ready (after a restart: the new one). */
  waitReady(name: string, timeoutMs = 60_000): Promise<void> {
    const u = this.unit(name);
    if (u.ready && u.run) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${name} not ready after ${timeoutMs} ms (see its log)`)), timeoutMs);
      u.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** SIGTERM (or the unit's stop signal) tier by tier in reverse start order, SIGKILL after the grace; nothing left running. */
  async stop(): Promise<void> {
    this.stopping = true;
    const tiers = [...new Set([...this.units.values()].map((u) => u.spec.tier))].sort((a, b) => b - a);
    for (const tier of tiers) {
      await Promise.all([...this.units.values()].filter((u) => u.spec.tier === tier).map((u) => this.stopUnit(u)));
    }
    this.writeState();
    // Exits seen during the stop queue a write for the next turn; the run dir may be gone by then.
    this.stopped = true;
  }

  private async stopUnit(u: Unit): Promise<void> {
    if (u.timer) clearTimeout(u.timer);
    const run = u.run;
    if (run) {
      const members = groupAndDescendants(run.pid);
      signalGroup(run.pid, u.spec.stopSignal ?? 'SIGTERM');
      const grace = u.spec.graceMs ?? 20_000;
      const ended = await Promise.race([run.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), grace))]);
      if (!ended) this.o.log(`${u.spec.name}: still running ${grace} ms after ${u.spec.stopSignal ?? 'SIGTERM'}: SIGKILL`);
      const all = [...members, ...groupAndDescendants(run.pid)];
      signalGroup(run.pid, 'SIGKILL');
      killAll(all);
      await run.exited;
      u.leftovers.push(...all);
    }
    killAll(u.leftovers);
    if (!(await waitGone(u.leftovers, 5_000))) this.o.log(`${u.spec.name}: processes still running after stop: ${u.leftovers.filter(stillRunning).map((p) => p.pid).join(' ')}`);
    u.leftovers = [];
  }

  private unit(name: string): Unit {
    const u = this.units.get(name);
    if (!u) throw new Error(`no process named ${name} (known: ${this.names().join(', ')})`);
    return u;
  }

  private changed(): void {
    if (this.stateDirty) return;
    this.stateDirty = true;
    setImmediate(() => {
      this.stateDirty = false;
      if (!this.stopped) this.writeState();
    });
  }

  /** state.json, replaced whole (write + rename) so a reader never sees half of it. */
  writeState(): void {
    const processes = [...this.units.values()].map((u) => ({
      name: u.spec.name, pid: u.run?.pid ?? 0,
      // With the pid, names the process even after pid reuse: a later launcher reaps what a killed one left (leftovers.ts).
      procStart: u.run ? procId(u.run.pid)?.start ?? null : null,
      ready: u.ready, restarts: u.restarts, livenessKills: u.livenessKills, upSince: u.run ? new Date(u.upSince).toISOString() : null, ...u.spec.info,
    }));
    const tmp = `${this.o.stateFile}.tmp`;
    try {
      writeFileSync(tmp, JSON.stringify({ ...this.o.state(), stopping: this.stopping, processes }, null, 2) + '\n');
      renameSync(tmp, this.o.stateFile);
    } catch (err) {
      // The state file is for people and tools looking in; failing to write it stops nothing.
      this.o.log(`state file ${this.o.stateFile}: ${(err as Error).message}`);
    }
  }
}
