#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { startStack } from './stack.js';
import { randomRequest, seededRandom } from '@aerie/simulator';

const USAGE = 'usage: aerie-demo [--drones N (5)] [--speedup X (3)] [--every S (10)] [--http-port P (8080)] [--mqtt-port P (1883)] [--data-dir DIR (.aerie-data/demo)] [--seed N]';

function hhmmss(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      drones: { type: 'string', default: '5' }, speedup: { type: 'string', default: '3' }, every: { type: 'string', default: '10' },
      'http-port': { type: 'string', default: '8080' }, 'mqtt-port': { type: 'string', default: '1883' },
      'data-dir': { type: 'string', default: '.aerie-data/demo' }, seed: { type: 'string', default: String(Date.now() % 100000) },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return void console.log(USAGE);
  const n = (k: keyof typeof values) => {
    const x = Number(values[k]);
    if (!Number.isFinite(x) || x < 0) {
      console.error(`aerie-demo: --${k} must be a non-negative number\n${USAGE}`);
      process.exit(2);
    }
    return x;
  };
  const home = { lat: 47.3977, lon: 8.5456, altMsl: 488 };
  const stack = await startStack({
    drones: Math.max(1, Math.round(n('drones'))), speedup: Math.max(1, n('speedup')), home, dataDir: values['data-dir'] ?? null,
    broker: { kind: 'embedded', port: n('mqtt-port') }, httpPort: n('http-port'), telemetryPort: 0,
    // The core prints every stage change below; the hub's own line per tracking event would repeat it.
    log: (line: string) => {
      if (!line.startsWith('tracking ')) console.log(line);
    },
  });
  const clock = stack.clock;
  console.log(`Aerie demo: ${stack.droneIds.length} simulated drones at ${values.speedup}× real time`);
  console.log(`  MQTT        ${stack.mqttUrl}`);
  console.log(`  deliveries  ${stack.core.url}/api/v1/deliveries/{id}`);
  console.log(`  telemetry   ${stack.telemetryUrl}/api/v1/drones/{droneId}/track`);
  const waiting = await stack.core.service.backlog();
  // Deliveries are durable: a restarted demo resumes the flights and the queue of the last run.
  if (waiting > 0 && values['data-dir']) console.log(`  resuming    ${waiting} waiting requests and the flights under way in ${values['data-dir']} (delete it to start afresh)`);
  console.log('Ctrl-C stops everything.\n');

  stack.core.service.onStageChange((d, change) => {
    const eta = d.eta && change.stage !== 'Completed' ? ` ETA ${hhmmss(d.eta)} (in ${Math.max(0, Math.round((d.eta - clock.now()) / 1000))} s)` : '';
    const where = d.lastPosition ? ` at ${d.lastPosition.lat.toFixed(5)},${d.lastPosition.lon.toFixed(5)}` : '';
    console.log(`${hhmmss(clock.now())}  ${d.id}  ${change.stage.padEnd(15)}${d.droneId ? ` ${d.droneId}` : ''}${eta}${where}`);
  });

  const rnd = seededRandom(n('seed'));
  let count = 0;
  const requestOne = async () => {
    // Keep the queue as long as the fleet, not growing without bound: a demo, not a load test.
    if (await stack.core.service.backlog() >= stack.droneIds.length) return;
    const id = `dlv-${String(++count).padStart(4, '0')}`;
    const res = await fetch(`${stack.core.url}/api/v1/deliveries/${id}`, {
      method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(randomRequest(home, rnd)),
    });
    if (res.status !== 202) console.error(`request ${id} answered ${res.status}: ${await res.text()}`);
    else console.log(`${hhmmss(clock.now())}  ${id}  follow it live: ${stack.core.url}${(await res.json() as { trackingUrl: string }).trackingUrl}`);
  };
  await requestOne();
  const timer = clock.setInterval(() => void requestOne().catch((e: unknown) => console.error(`request failed: ${String(e)}`)), n('every') * 1000);

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    clock.clearInterval(timer);
    console.log('\nstopping…');
    void stack.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
