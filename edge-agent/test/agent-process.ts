import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTlsMaterial, type TlsMaterial } from '../../test-support/mosquitto-tls.js';
import { freePort } from '../../test-support/servers.js';
import { startFakeFc, type FakeFc } from './fake-fc.js';

/*
 * The set-up of the tests that run the real agent process (dist/main.js) against a scripted FC
 * over UDP and Debian's Mosquitto over TLS, with a disk spool (publish-journal, outage-kill9).
 */

export type Cleanups = (() => Promise<unknown> | void)[];

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));

/** TLS material for `droneId` and a temp dir, both removed at cleanup. */
export function tlsRig(cleanups: Cleanups, droneId: string, prefix: string): { tls: TlsMaterial; dir: string } {
  const tls = makeTlsMaterial(droneId);
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(tls.dir, { recursive: true, force: true }));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return { tls, dir };
}

/** A scripted FC heartbeating every 200 ms to the agent's UDP port; `beat` is the interval, cleared at cleanup. */
export async function heartbeatingFc(cleanups: Cleanups): Promise<{ fc: FakeFc; fcPort: number; beat: NodeJS.Timeout }> {
  const fcPort = await freePort();
  const fc = await startFakeFc({ agentPort: fcPort });
  cleanups.push(() => fc.stop());
  const beat = setInterval(() => fc.heartbeat(), 200);
  cleanups.push(() => clearInterval(beat));
  return { fc, fcPort, beat };
}

export interface AgentFiles { configPath: string; spoolDir: string; statusFile: string }

/** The agent's config file in `dir`: UDP FC link without stream-rate requests, MQTT over TLS, a 16 MiB disk spool, a status file. */
export function writeAgentConfig(dir: string, o: { droneId: string; fcPort: number; mqtt: { url: string; ca: string; username: string; password: string }; publishHz: number }): AgentFiles {
  const files = { configPath: join(dir, 'agent.json'), spoolDir: join(dir, 'spool'), statusFile: join(dir, 'status.json') };
  writeFileSync(files.configPath, JSON.stringify({
    droneId: o.droneId,
    fc: { link: 'udp', host: '127.0.0.1', port: o.fcPort, streamHz: 0 },
    mqtt: o.mqtt,
    publishHz: o.publishHz, publishHzInFlight: o.publishHz,
    spool: { dir: files.spoolDir, maxMb: 16, statusMaxAgeS: 3600, eventMaxAgeS: 86400 },
    statusFile: files.statusFile,
  }));
  return files;
}

/** The real agent process on `configPath`; SIGKILLed at cleanup if still running, its stderr printed there with AERIE_DEBUG. */
export function spawnAgent(cleanups: Cleanups, configPath: string, env: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = spawn(process.execPath, [main, '--config', configPath], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (process.env.AERIE_DEBUG) console.error(stderr);
  });
  return child;
}

/** Sends `signal` and resolves once the process exited. */
export const stopWith = (child: ChildProcess, signal: NodeJS.Signals): Promise<void> => new Promise((resolve) => {
  child.once('exit', () => resolve());
  child.kill(signal);
});

/** How many records the agent last reported in its spool (status file); 0 before the first write. */
export function spooled(statusFile: string): number {
  if (!existsSync(statusFile)) return 0;
  try {
    return (JSON.parse(readFileSync(statusFile, 'utf8')) as { spool: { length: number } | null }).spool?.length ?? 0;
  } catch {
    return 0; // caught between write and rename
  }
}
