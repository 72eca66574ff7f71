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
    const { stdout } = await promisify(execFile)(process.execPath, [script, '--smoke'], { encoding: 'utf8', timeout: 200_000, maxBuffer: 16 << 20 });
    const lines = stdout.trim().split('\n');
    const last = JSON.parse(lines.at(-1)!) as Record<string, unknown>;
    expect(last).toMatchObject({ bench: 'soak', drones: 3, non2xx: 0, restarts: 0 });
    const sampled = lines.filter((l) => l.startsWith('process ')).map((l) => (JSON.parse(l.slice(8)) as { name: string }).name);
    expect(sampled).toEqual(expect.arrayContaining(['mosquitto', 'postgres', 'influxdb', 'hub-1', 'hub-2', 'telemetry', 'core', 'gateway', 'sim', 'agent-drone-001']));
    expect(last.processes).toBe(sampled.length);
    expect(last.creates as number).toBeGreaterThan(0);
    expect((last.staleness_p99_ms_windows as number[]).length).toBeGreaterThan(0);
  }, 220_000);
});
