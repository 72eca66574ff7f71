import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** One look at a process group: what a leak would show first. */
export interface GroupSample {
  pids: number;
  /** Resident set of every process in the group (nginx workers, PostgreSQL backends count). */
  rssBytes: number;
  fds: number;
  sockets: number;
}

function readOr(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null; // the process went away between the listing and the read
  }
}

/** pgrp is field 5 of /proc/PID/stat; the command (field 2) may hold spaces and parentheses. */
function pgrpOf(stat: string): number {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(rest[2]);
}

function rssOf(status: string): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

/** Members of each process group in `groups`, by one walk of /proc (Linux). */
export function sampleGroups(groups: readonly number[]): Map<number, GroupSample> {
  const out = new Map<number, GroupSample>(groups.map((g) => [g, { pids: 0, rssBytes: 0, fds: 0, sockets: 0 }]));
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readOr(`/proc/${name}/stat`);
    if (stat === null) continue;
    const sample = out.get(pgrpOf(stat));
    if (!sample) continue;
    const status = readOr(`/proc/${name}/status`);
    if (status === null) continue;
    sample.pids += 1;
    sample.rssBytes += rssOf(status);
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${name}/fd`);
    } catch {
      continue; // gone, or another user's process we may not look into
    }
    sample.fds += fds.length;
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${name}/fd/${fd}`).startsWith('socket:')) sample.sockets += 1;
      } catch {
        // closed while we looked
      }
    }
  }
  return out;
}
