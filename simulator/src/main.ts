#!/usr/bin/env node
import { USAGE, fleetOptions, parseConfig } from './config.js';
import { WarpClock } from './domain/warp-clock.js';
import { SimError } from './errors.js';
import { startSimFleet } from './fleet.js';

async function main(argv: readonly string[]): Promise<number> {
  let config;
  try {
    config = parseConfig(argv);
  } catch (err) {
    if (!(err instanceof SimError)) throw err;
    process.stderr.write(`aerie-sim: ${err.message} [${err.code}]\nTry 'aerie-sim --help'.\n`);
    return 2;
  }
  if (config === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const fleet = await startSimFleet(fleetOptions(config, new WarpClock({ speedup: config.speedup })));
  for (const v of fleet.vehicles) {
    const h = v.snapshot().home;
    const peer = config.gcsPortBase === 0 ? 'last sender' : `${config.gcsHost}:${config.gcsPortBase + v.sysid - 1}`;
    process.stdout.write(`aerie-sim: sysid=${v.sysid} udp=${config.host}:${v.port} gcs=${peer} home=${h.lat.toFixed(6)},${h.lon.toFixed(6)}\n`);
  }
  process.stdout.write(`aerie-sim: ${fleet.vehicles.length} vehicles at ${config.speedup}x; SIGINT/SIGTERM stops\n`);
  await new Promise<void>((resolve) => {
    const onSignal = (): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
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
