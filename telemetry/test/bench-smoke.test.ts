import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// bench:telemetry in its seconds-long smoke mode (a 2 s outage), so it never rots. No timing is
// asserted; only that it runs, prints its figures, and that the outage lost nothing.
describe('bench:telemetry in smoke mode', () => {
  it('prints one JSON object last, with nothing lost across the outage', () => {
    const script = fileURLToPath(new URL('../dist/bench/telemetry-bench.js', import.meta.url));
    const out = execFileSync(process.execPath, [script, '--smoke'], { encoding: 'utf8', timeout: 120_000 });
    const last = JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(Object.keys(last)).toEqual(['bench', 'value', 'baseline', 'ratio', 'outage_lost']);
    expect(last).toMatchObject({ bench: 'telemetry', outage_lost: 0 });
    expect(last.value as number).toBeGreaterThan(0);
    expect(last.baseline as number).toBeGreaterThan(0);
  }, 150_000);
});
