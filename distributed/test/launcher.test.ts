import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDistributed, type Distributed } from '../src/launcher.js';
import { httpsRequest } from '../src/https-client.js';
import { groupAndDescendants, stillRunning, type ProcId } from '../src/proc.js';

// Distributed mode for real (issue 8): Debian's Mosquitto, PostgreSQL, InfluxDB and nginx, every
// Aerie service its own process, a delivery through the gateway, kill -9 of a hub and of the
// broker, and a stop that leaves nothing running. An engine that is not installed fails the file.
const dir = mkdtempSync(join(tmpdir(), 'aerie-distributed-'));
let d: Distributed;
const lines: string[] = [];

async function poll<T>(probe: () => Promise<T | undefined>, what: string, ms = 60_000): Promise<T> {
  // A bound against hangs, never a timing assertion.
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${lines.slice(-30).join('\n')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function api(method: string, path: string, body?: unknown) {
  const res = await httpsRequest(`${d.gatewayUrl}${path}`, {
    caFile: d.caFile, method, headers: { authorization: `Bearer ${d.apiKey}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: (res.body ? JSON.parse(res.body) : null) as Record<string, unknown> };
}

async function statusCount(droneId: string): Promise<number> {
  const q = `SELECT count("lat") FROM "drone_status" WHERE "drone_id" = '${droneId}'`;
  const res = await fetch(`${d.influx.url}/query?${new URLSearchParams({ db: d.influx.db, q }).toString()}`);
  const body = (await res.json()) as { results?: { series?: { values: [string, number][] }[] }[] };
  return body.results?.[0]?.series?.[0]?.values[0]?.[1] ?? 0;
}

beforeAll(async () => {
  // 20x as bench:faults' smoke flies: the delivery's trip is the longest wait in this file.
  d = await startDistributed({ dir, drones: 2, speedup: 20, gatewayPort: 0, log: (l) => lines.push(l) });
}, 120_000);

afterAll(async () => {
  await d?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('distributed mode (npm run start:distributed)', () => {
  it('runs every service as its own ready process, recorded in state.json', async () => {
    expect(d.names()).toEqual(['mosquitto', 'postgres', 'influxdb', 'hub-1', 'hub-2', 'telemetry', 'core', 'gateway', 'sim', 'agent-drone-001', 'agent-drone-002']);
    // Readiness is checked again every second; on a loaded machine a probe may just have missed.
    await Promise.all(d.names().map((n) => d.waitReady(n, 20_000)));
    const procs = d.processes();
    expect(procs.every((p) => p.pid > 0 && p.restarts === 0)).toBe(true);
    expect(new Set(procs.map((p) => p.pid)).size).toBe(procs.length);
    const state = JSON.parse(readFileSync(d.stateFile, 'utf8')) as { gatewayUrl: string; processes: { name: string; pid: number }[] };
    expect(state.gatewayUrl).toBe(d.gatewayUrl);
    expect(state.processes.map((p) => p.pid).sort()).toEqual(procs.map((p) => p.pid).sort());
  });

  it('flies a delivery PUT through the gateway (TLS, API key) to Completed; the drone statuses reach InfluxDB', async () => {
    const put = await api('PUT', '/api/v1/deliveries/dist-1', { pickup: { lat: 47.3985, lon: 8.5465 }, dropoff: { lat: 47.3995, lon: 8.5445 } });
    expect(put.status).toBe(202);
    expect(put.json.trackingUrl).toMatch(/^\/track\/dist-1\?t=/);
    const done = await poll(async () => {
      const g = await api('GET', '/api/v1/deliveries/dist-1');
      if (g.json.stage === 'Failed') throw new Error(`delivery failed: ${String(g.json.failureReason)}`);
      return g.json.stage === 'Completed' ? g.json : undefined;
    }, 'the delivery to complete', 80_000);
    expect(done.owner).toBe(d.account);
    const droneId = String(done.droneId);
    expect(d.droneIds).toContain(droneId);
    expect(await poll(async () => ((await statusCount(droneId)) > 0 ? true : undefined), 'statuses in InfluxDB')).toBe(true);
  }, 120_000);

  it('restarts a hub, the broker and the database after kill -9, counts the restarts, and the fleet carries on', async () => {
    const hubBefore = d.processes().find((p) => p.name === 'hub-1')!;
    await d.kill('hub-1');
    await d.waitReady('hub-1', 30_000);
    const hubAfter = d.processes().find((p) => p.name === 'hub-1')!;
    expect(hubAfter.restarts).toBe(1);
    expect(hubAfter.pid).not.toBe(hubBefore.pid);

    const brokerBefore = d.processes().find((p) => p.name === 'mosquitto')!;
    await d.kill('mosquitto');
    await d.waitReady('mosquitto', 30_000);
    const brokerAfter = d.processes().find((p) => p.name === 'mosquitto')!;
    expect(brokerAfter.restarts).toBe(1);
    expect(brokerAfter.pid).not.toBe(brokerBefore.pid);

    // PostgreSQL's backends outlive a killed postmaster for a moment (they setsid): the restart
    // copes (a lock file naming a dead pid, shared memory still attached: retried with backoff).
    await d.kill('postgres');
    await d.waitReady('postgres', 30_000);
    expect(d.processes().find((p) => p.name === 'postgres')!.restarts).toBeGreaterThanOrEqual(1);
    await d.waitReady('core', 30_000);
    const after = await api('GET', '/api/v1/deliveries/dist-1');
    expect(after.status).toBe(200);
    expect(after.json.stage).toBe('Completed');

    // The agents reconnect to the restarted broker (same port, same data) and statuses flow again.
    const before = await statusCount('drone-001');
    await poll(async () => ((await statusCount('drone-001')) > before + 5 ? true : undefined), 'new statuses after the broker restart');
    expect(lines.some((l) => l.startsWith('mosquitto: pid') && l.includes('SIGKILL'))).toBe(true);
  }, 90_000);

  it('stop() leaves no process behind', async () => {
    const all: ProcId[] = d.processes().flatMap((p) => groupAndDescendants(p.pid));
    expect(all.length).toBeGreaterThanOrEqual(d.names().length);
    await d.stop();
    expect(all.filter(stillRunning)).toEqual([]);
    expect(d.processes().every((p) => p.pid === 0)).toBe(true);
  }, 60_000);
});
