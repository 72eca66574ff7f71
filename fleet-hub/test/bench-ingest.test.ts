import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The benchmark stays out of the gate; its seconds-long smoke mode runs here so it cannot rot.
// No timing is asserted: only that it runs end to end, accounts for every message and prints
// the keys.
describe('bench:ingest in smoke mode', () => {
  it('prints one JSON object with the issue keys on its last line and loses nothing', () => {
    const script = fileURLToPath(new URL('../dist/bench-ingest.js', import.meta.url));
    const out = execFileSync(process.execPath, [script, '--smoke'], { encoding: 'utf8', timeout: 90_000 });
    const last = JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, number | string>;
    expect(Object.keys(last)).toEqual(['bench', 'value', 'baseline', 'ratio', 'p99_ms', 'lost', 'overload_rss_mb', 'overload_p99_ms', 'shed']);
    expect(last.bench).toBe('ingest');
    expect(last.lost).toBe(0);
    expect(last.value as number).toBeGreaterThan(0);
    expect(last.baseline as number).toBeGreaterThan(0);
  }, 120_000);
});
