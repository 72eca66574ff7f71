import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { connect } from 'node:net';

// Production code (the distributed launcher, bench:telemetry) picks ports the same way.
export { freePort } from '@aerie/local-engines';

/** Waits until `port` accepts TCP connections; fails when the server exits or the deadline passes. */
export async function waitForPort(port: number, child: ChildProcess, deadlineMs: number, name: string, stderr: () => string): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}\n${stderr()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`${name} did not listen on ${port}\n${stderr()}`);
}

/** Stops a server started by a test and removes its temp directory. */
export async function stopServer(child: ChildProcess, dir: string): Promise<void> {
  if (child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
}
