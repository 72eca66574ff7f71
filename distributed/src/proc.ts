import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';

/** One line of /proc/PID/stat, the fields the supervisor needs (Linux). */
interface ProcStat {
  pid: number;
  ppid: number;
  pgrp: number;
  state: string;
  /** Start time in clock ticks since boot (field 22): with the pid, names one process even after pid reuse. */
  start: string;
}

/** A process as the kernel knows it: pid plus start time, so a reused pid is never mistaken for it. */
export interface ProcId {
  pid: number;
  start: string;
}

function statOf(pid: number | string): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null; // gone between the listing and the read
  }
  // Field 2 (comm) may hold spaces and parentheses: the rest starts after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { pid: Number(pid), state: rest[0] ?? '?', ppid: Number(rest[1]), pgrp: Number(rest[2]), start: rest[19] ?? '' };
}

function allProcs(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = statOf(name);
    if (s) out.push(s);
  }
  return out;
}

/** True while `pid` runs (a zombie waiting to be reaped counts as gone). */
export function alive(pid: number): boolean {
  const s = statOf(pid);
  return s !== null && s.state !== 'Z' && s.state !== 'X';
}

/**
 * Every process in `pgid`'s group and every descendant of its members, by one walk of /proc.
 * Descendants matter: PostgreSQL's backends call setsid() (InitPostmasterChild), so killing the
 * postmaster's group leaves them running.
 */
export function groupAndDescendants(pgid: number): ProcId[] {
  const procs = allProcs().filter((p) => p.state !== 'Z');
  const found = new Set(procs.filter((p) => p.pgrp === pgid || p.pid === pgid).map((p) => p.pid));
  for (let grew = true; grew;) {
    grew = false;
    for (const p of procs) {
      if (!found.has(p.pid) && found.has(p.ppid)) {
        found.add(p.pid);
        grew = true;
      }
    }
  }
  return procs.filter((p) => found.has(p.pid)).map((p) => ({ pid: p.pid, start: p.start }));
}

/** The process `pid` as the kernel knows it now, or null when it is gone. */
export function procId(pid: number): ProcId | null {
  const s = statOf(pid);
  return s && s.state !== 'Z' && s.state !== 'X' ? { pid, start: s.start } : null;
}

/** True while that very process (pid and start time) runs. */
export function stillRunning(p: ProcId): boolean {
  const s = statOf(p.pid);
  return s !== null && s.start === p.start && s.state !== 'Z' && s.state !== 'X';
}

/** Signals a whole process group; a group already gone is not an error. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** SIGKILLs each process still running as recorded (a pid reused since is left alone). */
export function killAll(procs: readonly ProcId[]): void {
  for (const p of procs) {
    if (!stillRunning(p)) continue;
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Resolves true once none of `procs` runs, or false after `ms`. */
export async function waitGone(procs: readonly ProcId[], ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (procs.every((p) => !stillRunning(p))) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** One TCP connect to 127.0.0.1:port. */
export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, host);
    s.setTimeout(1000);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(false));
  });
}

/** Resident set size of `pid` in bytes (0 when gone). */
export function rssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}
