import { spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { alive } from './proc.js';

/** A process the supervisor runs: its pid (= its process group) and when it ends. */
export interface Started {
  pid: number;
  /** Resolves with a description of how it ended ("exit 1", "signal SIGKILL"). */
  exited: Promise<string>;
}

export interface ChildSpec {
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Run as this user (PostgreSQL refuses root). */
  uid?: number;
  gid?: number;
}

/** Where a child's output goes: its own log file, and one compact line per output line to the launcher's. */
export interface OutputSinks {
  file: WriteStream;
  line(text: string): void;
}

export function openLog(path: string): WriteStream {
  const s = createWriteStream(path, { flags: 'a' });
  s.on('error', () => undefined); // a full disk must not take the launcher down
  return s;
}

/**
 * Spawns `spec` in its own session and process group (detached: setsid), so a kill of the group
 * reaches everything it forked (nginx workers, a node child's children) and a Ctrl-C at the
 * launcher's terminal reaches only the launcher, which then stops the children in order.
 */
export function spawnChild(spec: ChildSpec, out: OutputSinks): Promise<Started> {
  return new Promise((resolve, reject) => {
    const child = spawn(spec.command, [...spec.args], {
      cwd: spec.cwd, env: spec.env ?? process.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
      ...(spec.uid !== undefined ? { uid: spec.uid, gid: spec.gid } : {}),
    });
    const exited = new Promise<string>((res) => child.once('exit', (code, signal) => res(signal ? `signal ${signal}` : `exit ${code}`)));
    for (const stream of [child.stdout, child.stderr]) {
      let partial = '';
      stream.on('data', (b: Buffer) => {
        out.file.write(b);
        const lines = (partial + b.toString()).split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) if (l.trim()) out.line(l);
      });
    }
    child.once('error', reject);
    child.once('spawn', () => resolve({ pid: child.pid!, exited }));
  });
}

/**
 * For a process someone else spawned (the gateway module's nginx): its end, seen by polling,
 * since only the spawner holds the ChildProcess.
 */
export function watchPid(pid: number, everyMs = 100): Promise<string> {
  return new Promise((resolve) => {
    const t = setInterval(() => {
      if (alive(pid)) return;
      clearInterval(t);
      resolve('gone');
    }, everyMs);
  });
}
