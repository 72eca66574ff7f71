#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { USAGE, parseConfig, type SimConfig } from './config.js';
import { WarpClock } from './domain/warp-clock.js';
import { SimError } from './errors.js';
import { startFleet } from './harness.js';
import { parseScenario, type Scenario } from './scenario.js';
import { renderTable, summarize, type FleetSummary } from './live-table.js';

function loadScenario(config: Readonly<SimConfig>): Scenario | undefined {
  if (config.scenario === null) return undefined;
  let text: string;
  try {
    text = readFileSync(config.scenario, 'utf8');
  } catch (err) {
    throw new SimError('SIM_ERR_SCENARIO', `cannot read ${config.scenario}: ${(err as Error).message}`);
  }
  const sc = parseScenario(text);
  // --drones wins over the file: that many drones of the first group's airframe and home.
  return config.dronesGiven ? { ...sc, fleet: [{ ...sc.fleet[0]!, count: config.drones }] } : sc;
}

async function main(argv: readonly string[]): Promise<number> {
  let config;
  let scenario;
  try {
    config = parseConfig(argv);
    if (config !== 'help') scenario = loadScenario(config);
  } catch (err) {
    if (!(err instanceof SimError)) throw err;
    process.stderr.write(`aerie-sim: ${err.message} [${err.code}]\nTry 'aerie-sim --help'.\n`);
    return 2;
  }
  if (config === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const clock = new WarpClock({ speedup: config.speedup });
  const startMs = clock.now();
  const fleet = await startFleet({
    clock, scenario, drones: config.drones, home: config.home, host: config.host, streamHz: config.streamHz,
    personality: config.personality ?? undefined, seed: config.seed ?? undefined,
    portFor: (n) => (config.portBase === 0 ? 0 : config.portBase + n - 1),
    transport: config.transport, signing: config.signingKey ? { key: config.signingKey } : null,
    peerFor: (n) => (config.gcsPortBase === 0 ? null : { address: config.gcsHost, port: config.gcsPortBase + n - 1 }),
    onDelivery: (d) => {
      const what = `delivery request ${d.id}: pickup ${d.pickup.lat},${d.pickup.lon} → dropoff ${d.dropoff.lat},${d.dropoff.lon}`;
      if (config.coreUrl === null) return void process.stdout.write(`aerie-sim: ${what} (due; no --core-url)\n`);
      // delivery-core's idempotent create: the same id PUT twice is the same delivery.
      fetch(`${config.coreUrl.replace(/\/$/, '')}/api/v1/deliveries/${encodeURIComponent(d.id)}`, {
        method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pickup: d.pickup, dropoff: d.dropoff }),
      }).then(
        (res) => process.stdout.write(`aerie-sim: ${what} → HTTP ${res.status}\n`),
        (err: unknown) => process.stderr.write(`aerie-sim: ${what} failed: ${(err as Error).message}\n`),
      );
    },
  });
  const table = config.table ?? process.stdout.isTTY;
  if (!table || fleet.size <= 20) {
    for (const d of fleet.drones) {
      const h = d.vehicle.snapshot().home;
      const peer = config.transport === 'tcp' ? 'client' : config.gcsPortBase === 0 ? 'last sender' : `${config.gcsHost}:${config.gcsPortBase + d.n - 1}`;
      process.stdout.write(`aerie-sim: sysid=${d.sysid} ${config.transport}=${config.host}:${d.port} gcs=${peer}${config.signingKey ? ' signed' : ''} home=${h.lat.toFixed(6)},${h.lon.toFixed(6)}\n`);
    }
  }
  process.stdout.write(`aerie-sim: ${fleet.size} vehicles at ${config.speedup}x; SIGINT/SIGTERM stops\n`);

  let prev: FleetSummary | null = null;
  let prevAt = performance.now();
  let ticks = 0;
  const refresh = setInterval(() => {
    const now = summarize(fleet, startMs);
    const t = performance.now();
    const text = renderTable(now, prev, (t - prevAt) / 1000, config.speedup);
    if (table) process.stdout.write(`\x1b[H\x1b[2J${text}\n`);
    else if (ticks % 5 === 0) process.stdout.write(`${text.split('\n').join(' |')}\n`);
    ticks += 1;
    prev = now;
    prevAt = t;
  }, 1000);
  await new Promise<void>((resolve) => {
    const onSignal = (): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  clearInterval(refresh);
  await fleet.stop();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const code = err instanceof SimError ? ` [${err.code}]` : '';
    process.stderr.write(`aerie-sim: ${err instanceof Error ? err.message : String(err)}${code}\n`);
    process.exitCode = 1;
  },
);
