import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The benchmark runs here in its seconds-long smoke mode so it never rots; no timing is asserted,
// only that both phases ran and the last line is the JSON object bench:sim promises.
describe('bench:sim in smoke mode', () => {
  it('prints its figures as one JSON object on the last line', () => {
    const script = fileURLToPath(new URL('../dist/bench/sim-bench.js', import.meta.url));
    const out = execFileSync(process.execPath, [script, '--smoke'], { encoding: 'utf8', timeout: 60_000 });
    const last = JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(Object.keys(last).slice(0, 5)).toEqual(['bench', 'vehicles', 'hz', 'realtime', 'cpu_per_vehicle_pct']);
    expect(last).toMatchObject({ bench: 'sim', vehicles: 50, hz: 10 });
    expect(typeof last.realtime).toBe('boolean');
    expect(last.cpu_per_vehicle_pct as number).toBeGreaterThan(0);
    expect(last.delivered_ratio as number).toBeGreaterThan(0);
  });
});
