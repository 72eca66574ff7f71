#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { randomRequest, seededRandom } from '@aerie/simulator';
import { httpsRequest } from './https-client.js';
import { HOME, startDistributed, type Distributed } from './launcher.js';
import { groupAndDescendants, rssBytes } from './proc.js';

const USAGE = `usage: aerie-distributed [--dir DIR (.aerie-data/distributed)] [--drones N (5)] [--speedup X (3)] [--gateway-port P (8443; 0 = free)]
  [--agents-per-process N (1)] [--deliveries-per-min N (0)] [--broker-autosave N (1)] [--seed N] [--core-instances N (2)]`;

/** Flags, checked: a bad one exits 2 with the usage. */
function options() {
  const { values } = parseArgs({
    options: {
      dir: { type: 'string', default: join('.aerie-data', 'distributed') }, drones: { type: 'string', default: '5' }, speedup: { type: 'string', default: '3' },
      'gateway-port': { type: 'string', default: '8443' }, 'agents-per-process': { type: 'string', default: '1' },
      'deliveries-per-min': { type: 'string', default: '0' }, 'broker-autosave': { type: 'string', default: '1' }, 'core-instances': { type: 'string', default: '2' }, seed: { type: 'string', default: String(Date.now() % 100_000) }, help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const num = (k: 'drones' | 'speedup' | 'gateway-port' | 'agents-per-process' | 'deliveries-per-min' | 'broker-autosave' | 'core-instances' | 'seed', min: number, max: number): number => {
    const x = Number(values[k]);
    if (!Number.isFinite(x) || x < min || x > max) {
      console.error(`aerie-distributed: --${k} must be a number in ${min}–${max}, got "${values[k]}"\n${USAGE}`);
      process.exit(2);
    }
    return x;
  };
  return {
    dir: values.dir, drones: Math.round(num('drones', 1, 5000)), speedup: num('speedup', 1, 100), gatewayPort: Math.round(num('gateway-port', 0, 65535)),
    agentsPerProcess: Math.round(num('agents-per-process', 1, 5000)), perMin: num('deliveries-per-min', 0, 6000), brokerAutosave: Math.round(num('broker-autosave', 1, 1_000_000)),
    // delivery-core instances on the one PostgreSQL, all behind the gateway (saga leases, shared tracking subscription).
    coreInstances: Math.round(num('core-instances', 1, 8)), seed: num('seed', 0, 2 ** 32),
  };
}

async function putDelivery(d: Distributed, id: string, body: unknown): Promise<string> {
  const res = await httpsRequest(`${d.gatewayUrl}/api/v1/deliveries/${id}`, {
    caFile: d.caFile, method: 'PUT', headers: { authorization: `Bearer ${d.apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  if (res.status !== 202) throw new Error(`PUT ${id}: ${res.status} ${res.body}`);
  return (JSON.parse(res.body) as { trackingUrl: string }).trackingUrl;
}

async function main(): Promise<void> {
  const o = options();
  const t0 = performance.now();
  console.log(`aerie-distributed: starting ${o.drones} drones in ${o.dir} (logs in ${join(o.dir, 'logs')})`);
  const d = await startDistributed({ dir: o.dir, drones: o.drones, speedup: o.speedup, gatewayPort: o.gatewayPort, agentsPerProcess: o.agentsPerProcess, brokerAutosaveChanges: o.brokerAutosave, coreInstances: o.coreInstances });
  const startS = (performance.now() - t0) / 1000;
  // Every process of every group and its descendants (nginx workers, PostgreSQL backends), the launcher too.
  const procs = d.processes().flatMap((p) => groupAndDescendants(p.pid));
  const rss = procs.reduce((sum, p) => sum + rssBytes(p.pid), rssBytes(process.pid));
  console.log(`\nAerie distributed mode: ${d.processes().length} services ready in ${startS.toFixed(1)} s; ${procs.length + 1} OS processes, RSS ${(rss / 2 ** 20).toFixed(0)} MB in all (launcher ${(rssBytes(process.pid) / 2 ** 20).toFixed(0)} MB)`);
  console.log(`  gateway     ${d.gatewayUrl}/api/v1/deliveries/{id}   (TLS; trust ${d.caFile})`);
  console.log(`  API key     ${d.apiKey}   (business ${d.account}; Authorization: Bearer …)`);
  console.log(`  telemetry   ${d.gatewayUrl}/api/v1/drones/{droneId}/track   (operator key ${d.opsApiKey}; the business key reads its deliveries' tracks only)`);
  console.log(`  InfluxDB    ${d.influx.url} database ${d.influx.db}: point Grafana at it (dashboards/grafana/, data source uid aerie-influxdb)`);
  console.log(`  MQTT        ${d.mqttUrl} (Mosquitto)   PostgreSQL ${d.databaseUrl.replace(/:[^:@/]*@/, ':***@')}`);
  console.log(`  state       ${d.stateFile}`);
  console.log(`  try         curl --cacert ${d.caFile} -H 'authorization: Bearer ${d.apiKey}' ${d.gatewayUrl}/api/v1/deliveries`);
  const rnd = seededRandom(o.seed);
  let n = 0;
  const requestOne = async () => {
    const id = `dist-${o.seed}-${String(++n).padStart(5, '0')}`;
    const tracking = await putDelivery(d, id, randomRequest(HOME, rnd));
    console.log(`${new Date().toISOString().slice(11, 19)}  ${id} accepted; follow it live: ${d.gatewayUrl}${tracking}`);
  };
  await requestOne();
  const timer = o.perMin > 0 ? setInterval(() => void requestOne().catch((e: unknown) => console.error(`request failed: ${String(e)}`)), 60_000 / o.perMin) : null;
  console.log('Ctrl-C stops everything.\n');

  let stopping = false;
  const stop = () => {
    if (stopping) {
      // The operator will not wait for the graces: leave now; the next launch on DIR reaps what is left (leftovers.ts).
      console.error('second signal: exiting without waiting; the next start on this directory ends what is still running');
      process.exit(130);
    }
    stopping = true;
    if (timer) clearInterval(timer);
    console.log('\nstopping (reverse order, each service gets its grace)…');
    void d.stop().then(() => process.exit(0), (err: unknown) => {
      console.error(err);
      process.exit(1);
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(`aerie-distributed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
