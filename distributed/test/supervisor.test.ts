import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openLog, spawnChild } from '../src/child.js';
import { binary } from '../src/engines/system.js';
import { reapLeftovers } from '../src/leftovers.js';
import { httpLive } from '../src/readiness.js';
import { freePort } from '../../test-support/servers.js';
import { groupAndDescendants, procId, stillRunning, type ProcId } from '../src/proc.js';
import { Supervisor, type SupervisorOptions, type UnitSpec } from '../src/supervisor.js';

// The supervisor on plain shell processes: restart with backoff, kill of a whole group, a stop
// that leaves nothing behind (a grandchild, a process that ignores SIGTERM).
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The shell forks its sleeps a moment after it starts: wait for them (a bound, not a timing assertion). */
async function members(pid: number, atLeast: number): Promise<ProcId[]> {
  for (const end = Date.now() + 10_000; ; await new Promise((r) => setTimeout(r, 20))) {
    const m = groupAndDescendants(pid);
    if (m.length >= atLeast || Date.now() > end) return m;
  }
}

function setup(extra: Partial<SupervisorOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'aerie-supervisor-'));
  dirs.push(dir);
  const lines: string[] = [];
  const sup = new Supervisor({ restart: true, stateFile: join(dir, 'state.json'), state: () => ({ test: true }), log: (l) => lines.push(l), ...extra });
  const shell = (name: string, tier: number, script: string, extra: Partial<UnitSpec> = {}): UnitSpec => ({
    name, tier, start: () => spawnChild({ command: '/bin/sh', args: ['-c', script] }, { file: openLog(join(dir, `${name}.log`)), line: () => undefined }),
    probe: () => Promise.resolve(true), graceMs: 500, ...extra,
  });
  return { dir, sup, shell, lines };
}

describe('supervisor', () => {
  it('restarts a killed group, counts it, and stop() leaves no process of any group behind', async () => {
    const { dir, sup, shell } = setup();
    await sup.startTier([shell('engine', 0, 'sleep 1000 & sleep 1000')], 10_000);
    // Ignores SIGTERM, as a hung service would: stop() must SIGKILL it after its grace.
    await sup.startTier([shell('stubborn', 1, "trap '' TERM; sleep 1000 & wait; sleep 1000")], 10_000);
    const first = sup.processes().find((p) => p.name === 'engine')!;
    const before = await members(first.pid, 3);
    expect(before.length).toBeGreaterThanOrEqual(3); // sh and its two sleeps
    await sup.kill('engine');
    await sup.waitReady('engine', 10_000);
    const again = sup.processes().find((p) => p.name === 'engine')!;
    expect(again.restarts).toBe(1);
    expect(again.pid).not.toBe(first.pid);
    // The killed incarnation's whole group went with it, its background sleep included.
    expect(before.filter(stillRunning)).toEqual([]);
    // state.json is rewritten on the next turn after a change.
    await new Promise((r) => setImmediate(r));
    const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { processes: { name: string; restarts: number; ready: boolean }[] };
    expect(state.processes.find((p) => p.name === 'engine')).toMatchObject({ restarts: 1, ready: true });

    // engine: sh and two sleeps; stubborn: sh and one sleep.
    const all: ProcId[] = (await Promise.all(sup.processes().map((p) => members(p.pid, p.name === 'engine' ? 3 : 2)))).flat();
    expect(all.length).toBeGreaterThanOrEqual(5);
    await sup.stop();
    expect(all.filter(stillRunning)).toEqual([]);
    expect(sup.processes().every((p) => p.pid === 0 && !p.ready)).toBe(true);
  });

  it('backs off between restarts of a process that keeps exiting, and stops restarting at stop()', async () => {
    const { sup, shell, lines } = setup();
    let starts = 0;
    const spec = shell('flappy', 0, 'exit 3');
    await sup.startTier([{ ...spec, start: () => { starts++; return spec.start(); }, probe: () => Promise.resolve(false) }], 1).catch(() => undefined);
    // 100 + 200 + 400 + 800 ms of backoff: about five starts in 1.7 s, not dozens.
    await new Promise((r) => setTimeout(r, 1700));
    expect(starts).toBeGreaterThanOrEqual(3);
    expect(starts).toBeLessThanOrEqual(7);
    await sup.stop();
    const after = starts;
    await new Promise((r) => setTimeout(r, 600));
    expect(starts).toBe(after);
    expect(lines.some((l) => l.includes('flappy: pid') && l.includes('exit 3'))).toBe(true);
  });

  it('keeps checking readiness: a process whose probe fails twice shows not ready until it passes again', async () => {
    const { sup, shell, lines } = setup();
    let healthy = true;
    await sup.startTier([shell('svc', 0, 'sleep 1000', { probe: () => Promise.resolve(healthy) })], 10_000);
    healthy = false;
    for (const end = Date.now() + 10_000; sup.processes()[0]!.ready && Date.now() < end;) await new Promise((r) => setTimeout(r, 50));
    expect(sup.processes()[0]!.ready).toBe(false);
    const back = sup.waitReady('svc', 10_000);
    healthy = true;
    await back;
    expect(sup.processes()[0]).toMatchObject({ ready: true, restarts: 0 });
    expect(lines).toContain('svc: not ready');
    await sup.stop();
  });

  it('liveness: a node child that stops answering /livez (event loop blocked) is SIGKILLed after K failed probes and restarted, counted', async () => {
    const { dir, sup, lines } = setup({ liveness: { failureThreshold: 2, periodMs: 100, timeoutMs: 300 } });
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    // Serves /livez; on SIGUSR2 it spins forever: alive to the kernel (the socket is accepted), dead to every request.
    const script = "require('node:http').createServer((q, r) => r.end('ok')).listen(Number(process.argv[1]), '127.0.0.1');"
      + "process.on('SIGUSR2', () => { for (;;); });";
    const spec: UnitSpec = {
      name: 'svc', tier: 0, graceMs: 500,
      start: () => spawnChild({ command: process.execPath, args: ['-e', script, String(port)] }, { file: openLog(join(dir, 'svc.log')), line: () => undefined }),
      probe: () => httpLive(url, 300), live: (timeoutMs) => httpLive(url, timeoutMs),
    };
    await sup.startTier([spec], 10_000);
    // stop() in finally: a failure here must not leave a child spinning a core.
    try {
      const first = sup.processes()[0]!;
      // Answering: probes pass, nothing is killed.
      await new Promise((r) => setTimeout(r, 500));
      expect(sup.processes()[0]).toMatchObject({ pid: first.pid, restarts: 0, livenessKills: 0 });
      const hung = procId(first.pid)!;
      process.kill(first.pid, 'SIGUSR2');
      for (const end = Date.now() + 15_000; sup.processes()[0]!.restarts === 0 && Date.now() < end;) await new Promise((r) => setTimeout(r, 50));
      await sup.waitReady('svc', 10_000);
      const after = sup.processes()[0]!;
      expect(after).toMatchObject({ restarts: 1, livenessKills: 1, ready: true });
      expect(after.pid).not.toBe(first.pid);
      expect(stillRunning(hung)).toBe(false);
      expect(lines.some((l) => l.startsWith('svc: liveness probe failed 2 times in a row'))).toBe(true);
      await new Promise((r) => setImmediate(r));
      const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { processes: { name: string; restarts: number; livenessKills: number }[] };
      expect(state.processes[0]).toMatchObject({ restarts: 1, livenessKills: 1 });
    } finally {
      await sup.stop();
    }
  });

  it('refuses a liveness threshold or period that makes no sense', () => {
    const base = { restart: true, stateFile: '/nonexistent/state.json', state: () => ({}), log: () => undefined };
    expect(() => new Supervisor({ ...base, liveness: { failureThreshold: 0 } })).toThrow(/failureThreshold ≥ 1/);
    expect(() => new Supervisor({ ...base, liveness: { periodMs: 1 } })).toThrow(/periodMs ≥ 10/);
    expect(() => new Supervisor({ ...base, liveness: { timeoutMs: Number.NaN } })).toThrow(/timeoutMs ≥ 10/);
  });

  it('a later launch reaps what a launcher killed with -9 left running (by pid and start time), and refuses a directory still in use', async () => {
    const { dir, sup, shell } = setup();
    await sup.startTier([shell('orphan', 0, 'sleep 1000 & sleep 1000'), shell('stubborn', 0, "trap '' TERM; sleep 1000 & wait; sleep 1000")], 10_000);
    const procs = (await Promise.all(sup.processes().map((p) => members(p.pid, p.name === 'orphan' ? 3 : 2)))).flat();
    const leaders = sup.processes().map((p) => ({ name: p.name, pid: p.pid, procStart: procId(p.pid)!.start }));
    const stateFile = join(dir, 'old-state.json');
    // A launcher pid that no longer runs as recorded (its start time differs): it was killed.
    writeFileSync(stateFile, JSON.stringify({ launcherPid: process.pid, launcherStart: 'gone', processes: [...leaders, { name: 'reused', pid: 1, procStart: 'not-init' }] }));
    const said: string[] = [];
    await reapLeftovers(stateFile, (l) => said.push(l), 300);
    expect(procs.filter(stillRunning)).toEqual([]);
    expect(stillRunning(procId(1)!)).toBe(true); // a pid recorded with another start time is never touched
    expect(said[0]).toMatch(/^reaping 2 processes/);
    await sup.stop();

    writeFileSync(stateFile, JSON.stringify({ launcherPid: process.ppid, launcherStart: procId(process.ppid)!.start, processes: [] }));
    await expect(reapLeftovers(stateFile, () => undefined)).rejects.toThrow(/still runs on this directory/);
  });

  it('a missing engine binary is a clear error naming the Debian package, never a skip', () => {
    expect(() => binary('mosquitto-not-installed', 'mosquitto')).toThrow(/mosquitto-not-installed not found.*install Debian's mosquitto package/);
  });
});
