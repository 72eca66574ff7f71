import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// bench:api in its seconds-long smoke mode. No timing is asserted, only the exactly-once
// audit: the server is killed with SIGKILL while clients PUT, restarted on the same file, and
// every request it had answered 202 must be there and processed once.
describe('bench:api smoke', () => {
  it('loses and duplicates nothing across kill -9 under load, and prints its JSON line', async () => {
    const script = fileURLToPath(new URL('../dist/bench/api.js', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [script, '--smoke', '--connections', '20'], { encoding: 'utf8', timeout: 150_000 });
    const last = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, number | string>;
    expect(Object.keys(last).slice(0, 7)).toEqual(['bench', 'value', 'baseline', 'ratio', 'p99_ms', 'crash_lost', 'crash_duplicated']);
    expect(last.crash_acked as number).toBeGreaterThan(0);
    expect(last).toMatchObject({ crash_lost: 0, crash_duplicated: 0, crash_unprocessed: 0, non2xx: 0 });
  }, 160_000);
});
