import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { HOME, startDistributed, type Distributed } from '../launcher.js';
import { account, type Accounting, type StatusId } from '../accounting.js';
import { readCoreSnapshot, readJournals, readStoredStatuses } from '../accounting-sources.js';
import { finalsBetween, notFinal, spooled, within } from './settle.js';
import { sleep, Submitter } from './submitter.js';

/**
 * bench:faults (issue 8): distributed mode with a simulated fleet flying deliveries submitted
 * through the gateway at a steady rate; an undisturbed phase, then kill -9 in turn of a hub,
 * Mosquitto, delivery-core, telemetry, InfluxDB, an edge agent and the gateway, each waited for until the
 * supervisor restarted it and it is ready, the fleet flying on in between. Then submitting stops,
 * every 202 is waited for until final and the spools drained, and everything is accounted for by
 * id (accounting.ts). The ratio: deliveries finished per minute in the fault phase against the
 * undisturbed phase of the same length, same run.
 *
 * Usage: node distributed/dist/bench/faults.js [--smoke] [--drones N] [--speedup S] [--rate PER_S] [--dwell-s S] [--keep]
 */
const { values } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: process.env.AERIE_BENCH_SMOKE === '1' },
    drones: { type: 'string' }, speedup: { type: 'string' }, rate: { type: 'string' }, 'dwell-s': { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const smoke = values.smoke ?? false;
const drones = Number(values.drones ?? (smoke ? 2 : 10));
const speedup = Number(values.speedup ?? (smoke ? 20 : 5));
const dwellS = Number(values['dwell-s'] ?? (smoke ? 4 : 30));
// A trip (pickup 100–300 m from the depot, dropoff 200–450 m on) takes about 200 simulated seconds
// with take-offs and landings: offer ~60 % of what the fleet flies, so no backlog grows, and warm up
// for one trip so the undisturbed phase measures the fleet in its steady state.
const TRIP_SIM_S = 200;
const ratePerS = Number(values.rate ?? (0.6 * drones * speedup) / TRIP_SIM_S);
const warmupS = smoke ? 0 : Math.ceil(TRIP_SIM_S / speedup);
const say = (line: string): void => console.log(`[faults] ${line}`);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'aerie-faults-'));
  const journalDir = join(dir, 'journal');
  const load0 = loadavg()[0]!;
  say(`starting distributed mode: ${drones} drones at ${speedup}x, ${ratePerS.toFixed(2)} deliveries/s, load ${load0.toFixed(2)} (${dir})`);
  const launcherLines: string[] = [];
  const d = await startDistributed({ dir, drones, speedup, gatewayPort: 0, agentJournalDir: journalDir, log: (l) => launcherLines.push(l) });
  // Interrupted (Ctrl-C, a test's timeout): nothing of the run is left behind.
  const interrupted = (signal: NodeJS.Signals): void => {
    say(`${signal}: stopping distributed mode (kept ${dir})`);
    void d.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  let result: { acc: Accounting; extra: Record<string, unknown> } | null = null;
  try {
    result = await run(d, dir, journalDir);
  } finally {
    await d.stop();
    if (!values.keep && result !== null) rmSync(dir, { recursive: true, force: true });
    else say(`kept ${dir} (logs in ${d.logsDir})`);
  }
  const { acc, extra } = result;
  const { examples, ...figures } = acc;
  for (const [what, ids] of Object.entries(examples)) say(`${what}: ${ids.join(', ')}`);
  say(`load average ${load0.toFixed(2)} → ${loadavg()[0]!.toFixed(2)}`);
  console.log(JSON.stringify({
    bench: 'faults', kills: extra.kills,
    status_published: figures.status_published, status_stored: figures.status_stored, status_lost: figures.status_lost, status_duplicated: figures.status_duplicated,
    deliveries_accepted: figures.deliveries_accepted, deliveries_final: figures.deliveries_final, deliveries_lost: figures.deliveries_lost, double_booked: figures.double_booked,
    stages_backwards: figures.stages_backwards, status_unjournaled: figures.status_unjournaled, deliveries_final_repeated: figures.deliveries_final_repeated,
    deliveries_completed: figures.deliveries_completed, deliveries_failed: figures.deliveries_failed, deliveries_cancelled: figures.deliveries_cancelled,
    ...extra, load: [load0, loadavg()[0]].map((l) => Number(l!.toFixed(2))),
  }));
}

async function run(d: Distributed, dir: string, journalDir: string): Promise<{ acc: Accounting; extra: Record<string, unknown> }> {
  const submitter = new Submitter({ gatewayUrl: d.gatewayUrl, caFile: d.caFile, apiKey: d.apiKey, depot: HOME, prefix: `f${Date.now().toString(36)}`, ratePerS, log: say });
  const agentName = d.names().find((n) => n.startsWith('agent'))!;
  // telemetry in the smoke list too: its write-ahead log is what keeps a kill -9 of it from losing
  // the statuses it had acknowledged and not yet written (telemetry/src/adapters/wal.ts).
  const victims = smoke ? ['hub-1', 'mosquitto', 'telemetry'] : ['hub-1', 'mosquitto', 'core', 'telemetry', 'influxdb', agentName, 'gateway'];
  const phaseMs = victims.length * dwellS * 1000;

  submitter.start();
  if (warmupS > 0) {
    say(`warming up: ${warmupS} s`);
    await sleep(warmupS * 1000);
  }
  const baseFrom = Date.now();
  say(`undisturbed phase: ${phaseMs / 1000} s`);
  await sleep(phaseMs);
  const baseTo = Date.now();

  let kills = 0;
  const notReady: string[] = [];
  const restartS: Record<string, number> = {};
  for (const name of victims) {
    const before = d.processes().find((p) => p.name === name);
    const t0 = Date.now();
    await d.kill(name, 'SIGKILL');
    kills += 1;
    try {
      await d.waitReady(name, 120_000);
      restartS[name] = Number(((Date.now() - t0) / 1000).toFixed(1));
      const after = d.processes().find((p) => p.name === name);
      say(`kill -9 ${name} (pid ${before?.pid}): back as pid ${after?.pid}, ready in ${restartS[name]} s (restarts ${after?.restarts})`);
    } catch (err) {
      notReady.push(name);
      say(`kill -9 ${name}: not ready again within the bound: ${(err as Error).message}`);
    }
    await sleep(dwellS * 1000);
  }
  const faultTo = Date.now();

  await submitter.stop(120_000);
  say(`submitting stopped: ${submitter.accepted.length} accepted, ${submitter.refused.length} refused, ${submitter.retries} retries, ${submitter.pending} unanswered`);
  // A trip lasts ~40 s at 5x: five minutes is several times what a backlog of the fleet's size needs.
  const settleMs = smoke ? 120_000 : 300_000;
  const allFinal = await within(settleMs, async () => (await notFinal(d.databaseUrl, submitter.accepted)) === 0, 2000);
  say(allFinal ? 'every accepted delivery is final' : `${await notFinal(d.databaseUrl, submitter.accepted)} accepted deliveries not final within ${settleMs / 1000} s`);
  const drained = await within(120_000, () => spooled(dir, d.droneIds) === 0);
  say(drained ? 'agent spools drained' : `agent spools not drained: ${spooled(dir, d.droneIds)} records`);

  // The journals, then InfluxDB until what they list has arrived (telemetry batches for a second;
  // bounded). Statuses after the cutoff are left out on both sides: the journals' last lines may
  // still be in the agents' buffers.
  const journal = readJournals(journalDir);
  const cutoff = Date.now() - 3000;
  const upTo = (list: readonly StatusId[]): StatusId[] => list.filter((s) => s.ts <= cutoff);
  const books = async (): Promise<Accounting> => account({
    journal: upTo(journal.entries), stored: upTo(await readStoredStatuses(d.influx, d.droneIds)), core: await readCoreSnapshot(d.databaseUrl), accepted: submitter.accepted,
  });
  let acc = await books();
  let lastLost = acc.status_lost;
  let still = 0;
  while (acc.status_lost > 0 && still < 15) {
    await sleep(2000);
    acc = await books();
    still = acc.status_lost < lastLost ? 0 : still + 1;
    lastLost = acc.status_lost;
  }
  const [baseFinals, faultFinals] = await Promise.all([finalsBetween(d.databaseUrl, baseFrom, baseTo), finalsBetween(d.databaseUrl, baseTo, faultTo)]);
  const perMin = (n: number, ms: number): number => Number(((n * 60_000) / ms).toFixed(2));
  const baseline = perMin(baseFinals, baseTo - baseFrom);
  const value = perMin(faultFinals, faultTo - baseTo);
  say(`deliveries finished per minute: ${value} with faults (${faultFinals} in ${((faultTo - baseTo) / 1000).toFixed(0)} s) vs ${baseline} undisturbed (${baseFinals} in ${((baseTo - baseFrom) / 1000).toFixed(0)} s)`);
  return {
    acc,
    extra: {
      kills, value, baseline, ratio: baseline > 0 ? Number((value / baseline).toFixed(3)) : null, drones, speedup,
      journal_unreadable: journal.unreadable, refused: submitter.refused.length, not_ready: notReady, restart_s: restartS,
      restarts: Object.fromEntries(d.processes().filter((p) => p.restarts > 0).map((p) => [p.name, p.restarts])),
    },
  };
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
