import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from './until.js';

export interface PtyPair {
  /** Two linked pseudo-terminals: bytes written to one are read from the other. */
  a: string;
  b: string;
  stop(): Promise<void>;
}

/** A pty pair from Debian's socat, the standard stand-in for a serial cable between two programs. */
export async function startPtyPair(): Promise<PtyPair> {
  const bin = ['/usr/bin/socat', '/usr/local/bin/socat'].find((p) => existsSync(p));
  if (!bin) throw new Error('socat not found: install Debian\'s socat package (apt-get install socat)');
  const dir = mkdtempSync(join(tmpdir(), 'aerie-pty-'));
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  const child: ChildProcess = spawn(bin, [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
  await until(() => existsSync(a) && existsSync(b), 'socat to create the pty pair', 10_000);
  return {
    a, b,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
