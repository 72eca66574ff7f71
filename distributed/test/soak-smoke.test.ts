import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The soak in its smoke mode: the distributed mode on the real engines with three drones for a
// few seconds, every process group sampled. No figure is asserted (they are the soak's to report),
// only that each process was sampled, the report is complete and nothing failed or restarted.
describe('soak smoke', () => {
  it('samples every process and prints its JSON line last', async () => {
    const script = fileURLToPath(new URL('../dist/soak/soak.js', import.meta.url));
    // 12 s of load rather than the smoke default's 18: two 6-second windows, the second one the
    // steady window the report lists; starting the stack is most of this file's time.
    const { stdout } = await promisify(execFile)(process.execPath, [script, '--smoke', '--minutes', '0.2'], { encoding: 'utf8', timeout: 200_000, maxBuffer: 16 << 20 });
    const lines = stdout.trim().split('\n');
    const last = JSON.parse(lines.at(-1)!) as Record<string, unknown>;
    expect(last).toMatchObject({ bench: 'soak', drones: 3, non2xx: 0, restarts: 0 });
    const sampled = lines.filter((l) => l.startsWith('process ')).map((l) => (JSON.parse(l.slice(8)) as { name: string }).name);
    expect(sampled).toEqual(expect.arrayContaining(['mosquitto', 'postgres', 'influxdb', 'hub-1', 'hub-2', 'telemetry', 'core', 'gateway', 'sim', 'agent-drone-001']));
    expect(last.processes).toBe(sampled.length);
    // The node services report their V8 heap (heap-probe.ts); the engines (Mosquitto, PostgreSQL…) do not.
    const heaps = Object.fromEntries(lines.filter((l) => l.startsWith('process ')).map((l) => JSON.parse(l.slice(8)) as { name: string; heap_mb_last: number | null }).map((p) => [p.name, p.heap_mb_last]));
    for (const name of ['hub-1', 'hub-2', 'telemetry', 'core', 'sim', 'agent-drone-001']) expect(heaps[name], name).toBeGreaterThan(1);
    expect(heaps.mosquitto).toBeNull();
    expect(last.heap_slope_mb_per_h_max).toEqual(expect.any(Number));
    expect(last.creates as number).toBeGreaterThan(0);
    expect((last.staleness_p99_ms_windows as number[]).length).toBeGreaterThan(0);
  }, 220_000);
});
