#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { agentConfig, startEdgeAgent, type RunningAgent } from '@aerie/edge-agent';

/** What the launcher writes for one pool process (mode 0600: it holds the drones' MQTT passwords). */
export interface PoolFile {
  mqttUrl: string;
  healthPort: number;
  agents: { droneId: string; password: string; fcPort: number; spoolDir: string; publishJournal: string | null; publishHz?: number }[];
}

/**
 * Several edge agents in one process, for fleets too big for a node process per drone (a 500-drone
 * soak would need ~30 GB). Each agent is exactly what `aerie-agent` runs (startEdgeAgent: its own
 * FC socket, MQTT session under its drone id, disk spool); only the process is shared. Health on
 * 127.0.0.1:healthPort: /livez, and /readyz 200 once every agent hears its FC and has its uplink.
 */
async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file) throw new Error('usage: agent-pool POOL.json');
  const pool = JSON.parse(readFileSync(file, 'utf8')) as PoolFile;
  const agents: RunningAgent[] = [];
  let stopping = false;
  const readiness = () => {
    const pending = agents.length < pool.agents.length ? pool.agents.length - agents.length : 0;
    const down = agents.filter((a) => !a.uplink.connected || !a.agent.status().link.fcConnected).map((a) => a.agent.status().droneId);
    return { ready: !stopping && pending === 0 && down.length === 0, checks: { starting: pending, notConnected: down } };
  };
  const server = createServer((req, res) => {
    const r = req.url === '/livez' ? { code: 200, body: { status: 'alive' } } : req.url === '/readyz'
      ? (() => { const x = readiness(); return { code: x.ready ? 200 : 503, body: { status: x.ready ? 'ready' : 'not_ready', checks: x.checks } }; })()
      : { code: 404, body: { status: 'not_found' } };
    res.writeHead(r.code, { 'content-type': 'application/json' }).end(JSON.stringify(r.body));
  });
  await new Promise<void>((resolve) => server.listen(pool.healthPort, '127.0.0.1', resolve));
  for (const a of pool.agents) {
    const cfg = agentConfig({
      droneId: a.droneId, fc: { host: '127.0.0.1', port: a.fcPort },
      mqtt: { url: pool.mqttUrl, username: a.droneId, password: a.password },
      spool: { dir: a.spoolDir }, publishJournal: a.publishJournal,
      ...(a.publishHz ? { publishHz: a.publishHz, publishHzInFlight: a.publishHz } : {}),
    });
    agents.push(await startEdgeAgent(cfg));
  }
  console.log(JSON.stringify({ level: 'info', msg: 'agent pool started', agents: agents.length, health: `http://127.0.0.1:${pool.healthPort}` }));
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    server.close();
    void Promise.allSettled(agents.map((a) => a.stop())).then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(`agent-pool: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
