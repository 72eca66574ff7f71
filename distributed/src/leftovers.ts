import { existsSync, readFileSync } from 'node:fs';
import { groupAndDescendants, killAll, signalGroup, stillRunning, waitGone, type ProcId } from './proc.js';

interface OldState {
  launcherPid?: number;
  launcherStart?: string;
  processes?: { name: string; pid: number; procStart?: string | null }[];
}

/**
 * A launcher killed with -9 cannot stop its children (each runs in its own session); the next
 * launch on the same directory would then meet them on its ports and data (PostgreSQL's lock,
 * Mosquitto's database). So it reads the earlier state.json and ends, by pid and start time
 * (never a pid the kernel has since given to someone else), every process it lists: SIGTERM to
 * each group, SIGKILL after `graceMs`. A launcher still running on the directory is an error.
 */
export async function reapLeftovers(stateFile: string, log: (line: string) => void, graceMs = 10_000): Promise<void> {
  if (!existsSync(stateFile)) return;
  let old: OldState;
  try {
    old = JSON.parse(readFileSync(stateFile, 'utf8')) as OldState;
  } catch {
    return; // a torn or foreign file: nothing to trust in it
  }
  if (old.launcherPid && old.launcherStart && old.launcherPid !== process.pid && stillRunning({ pid: old.launcherPid, start: old.launcherStart })) {
    throw new Error(`${stateFile}: launcher pid ${old.launcherPid} still runs on this directory; stop it first (kill -TERM ${old.launcherPid})`);
  }
  const leaders: ProcId[] = (old.processes ?? [])
    .filter((p) => p.pid > 0 && typeof p.procStart === 'string')
    .map((p) => ({ pid: p.pid, start: p.procStart! }))
    .filter(stillRunning);
  if (leaders.length === 0) return;
  log(`reaping ${leaders.length} processes an earlier launcher (pid ${old.launcherPid ?? '?'}) left running: ${leaders.map((p) => p.pid).join(' ')}`);
  const all = leaders.flatMap((p) => groupAndDescendants(p.pid));
  for (const p of leaders) signalGroup(p.pid, 'SIGTERM');
  if (!(await waitGone(leaders, graceMs))) {
    for (const p of leaders.filter(stillRunning)) signalGroup(p.pid, 'SIGKILL');
  }
  killAll(all);
  await waitGone(all, 5_000);
}
