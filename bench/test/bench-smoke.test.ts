import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Benchmarks stay out of the test gate, but each runs here in its seconds-long smoke mode so
// none rots. No timing is asserted: only that it runs and prints its figures.
describe('benchmarks in smoke mode', () => {
  it('bench:mavlink prints its figures as one JSON object on the last line', () => {
    const script = fileURLToPath(new URL('../dist/mavlink-decode.js', import.meta.url));
    const out = execFileSync(process.execPath, [script, '--smoke'], { encoding: 'utf8', timeout: 60_000 });
    const last = JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(Object.keys(last)).toEqual(['bench', 'file', 'aeriePacketsPerSec', 'baselinePacketsPerSec', 'ratio', 'aeriePackets', 'baselinePackets', 'date']);
    expect(last.aeriePackets as number).toBeGreaterThanOrEqual(last.baselinePackets as number);
    expect(last.aeriePackets as number).toBeGreaterThan(10_000);
  });
});
