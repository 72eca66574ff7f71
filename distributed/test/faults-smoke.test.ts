import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// bench:faults in its smoke mode: distributed mode on the real engines with two drones, a hub,
// Mosquitto and telemetry killed with SIGKILL while deliveries are submitted through the gateway, then every
// status and delivery accounted for by id. No time is asserted: the JSON line's shape and the zeros.
describe('bench:faults smoke', () => {
  it('prints its JSON line last with the issue\'s keys, nothing lost, duplicated or double booked', async () => {
    const script = fileURLToPath(new URL('../dist/bench/faults.js', import.meta.url));
    // Shorter dwells than the smoke default (4 s) with a submission every 5 s, so that a delivery
    // is still taken before the kills: the accounting is what this test checks, not the phases' length.
    const { stdout } = await promisify(execFile)(process.execPath, [script, '--smoke', '--dwell-s', '2', '--rate', '0.2'], { encoding: 'utf8', timeout: 280_000, maxBuffer: 16 << 20 });
    const last = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(Object.keys(last).slice(0, 10)).toEqual([
      'bench', 'kills', 'status_published', 'status_stored', 'status_lost', 'status_duplicated', 'deliveries_accepted', 'deliveries_final', 'deliveries_lost', 'double_booked',
    ]);
    expect(last).toMatchObject({ bench: 'faults', kills: 3, status_lost: 0, status_duplicated: 0, deliveries_lost: 0, double_booked: 0, stages_backwards: 0, deliveries_final_repeated: 0, not_ready: [] });
    expect(last.status_published as number).toBeGreaterThan(0);
    expect(last.status_stored).toBe(last.status_published);
    expect(last.deliveries_accepted as number).toBeGreaterThan(0);
    expect(last.deliveries_final).toBe(last.deliveries_accepted);
  }, 300_000);
});
