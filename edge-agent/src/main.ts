#!/usr/bin/env node
import { parseArgs } from 'node:util';
import type { DroneEvent } from '@aerie/contracts';
import { agentConfig, type AgentConfig } from './config.js';
import { layeredInput, parseHostPort, readConfigFile } from './config-file.js';
import { startEdgeAgent } from './start.js';
import { AgentError } from './errors.js';
import { replayTlog } from './replay.js';
import { runCheck } from './check.js';
import { jsonLogger } from './adapters/log.js';
import { StatusFile } from './adapters/status-file.js';
import { SpoolingUplink } from './adapters/spooling-uplink.js';
import { HealthServer } from './adapters/health-http.js';

const USAGE = `usage: aerie-agent [--config FILE.yaml|FILE.json] [--check] [flags]
       aerie-agent replay FILE.tlog [--publish-hz N (2)] [--events]
flags (override the file and the environment):
  --drone-id ID  --mqtt-url URL  --mqtt-username U  --mqtt-password P  --publish-hz N (2)
  --fc-listen HOST:PORT (udp, 127.0.0.1:14550)  --fc-peer HOST:PORT  --fc-tcp HOST:PORT  --fc-serial DEVICE  --baud N (57600)
  --health-port P   GET /livez and /readyz on healthHost (127.0.0.1):P for a supervisor (off unless set)
  --check        validate the configuration, wait for the FC heartbeat and connect to MQTT, then exit (0 = all good)
environment: AERIE_AGENT_<SETTING> for every setting, e.g. AERIE_AGENT_DRONE_ID, AERIE_AGENT_MQTT_PASSWORD,
  AERIE_AGENT_FC_SIGNING_KEY (see README "Edge agent")`;

async function replay(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { 'publish-hz': { type: 'string' }, events: { type: 'boolean' } } });
  const file = positionals[0];
  if (!file) throw new AgentError('AGENT_ERR_CONFIG', 'replay needs a .tlog file');
  // `aerie-agent replay x.tlog | head` closes the pipe early: that is not an error.
  process.stdout.on('error', () => process.exit(0));
  const out = (line: string): void => void process.stdout.write(line + '\n');
  const summary = await replayTlog(file, {
    ...(values['publish-hz'] ? { publishHz: Number(values['publish-hz']) } : {}),
    onStatus: (s) => out(JSON.stringify(s)),
    ...(values.events ? { onEvent: (e: DroneEvent) => out(JSON.stringify(e)) } : {}),
  });
  out(JSON.stringify({ packets: summary.packets, corrupt: summary.corrupt, positions: summary.positions, modes: summary.modes }));
}

function loadConfig(args: string[]): { config: Readonly<AgentConfig>; check: boolean } {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string' }, check: { type: 'boolean' },
      'drone-id': { type: 'string' }, 'mqtt-url': { type: 'string' }, 'mqtt-username': { type: 'string' }, 'mqtt-password': { type: 'string' },
      'fc-listen': { type: 'string' }, 'fc-peer': { type: 'string' }, 'fc-tcp': { type: 'string' }, 'fc-serial': { type: 'string' },
      baud: { type: 'string' }, 'publish-hz': { type: 'string' }, 'health-port': { type: 'string' },
    },
  });
  const flags: Record<string, unknown> = {
    droneId: values['drone-id'], 'mqtt.url': values['mqtt-url'], 'mqtt.username': values['mqtt-username'], 'mqtt.password': values['mqtt-password'],
    publishHz: values['publish-hz'] === undefined ? undefined : Number(values['publish-hz']),
    healthPort: values['health-port'] === undefined ? undefined : Number(values['health-port']),
  };
  const listen = values['fc-listen'] ? parseHostPort(values['fc-listen'], '--fc-listen') : null;
  if (listen) Object.assign(flags, { 'fc.link': 'udp', 'fc.host': listen.address, 'fc.port': listen.port });
  if (values['fc-peer']) flags['fc.peer'] = parseHostPort(values['fc-peer'], '--fc-peer');
  const tcp = values['fc-tcp'] ? parseHostPort(values['fc-tcp'], '--fc-tcp') : null;
  if (tcp) Object.assign(flags, { 'fc.link': 'tcp', 'fc.host': tcp.address, 'fc.port': tcp.port });
  if (values['fc-serial']) Object.assign(flags, { 'fc.link': 'serial', 'fc.device': values['fc-serial'] });
  if (values.baud) flags['fc.baudRate'] = Number(values.baud);
  const input = layeredInput(values.config ? readConfigFile(values.config) : {}, process.env, flags);
  if (!input.droneId) throw new AgentError('AGENT_ERR_CONFIG', 'droneId: required (--drone-id, AERIE_AGENT_DRONE_ID or droneId in the config file)');
  // A drone's MQTT username is its id unless told otherwise (the hub's device registry).
  input.mqtt = { ...input.mqtt, username: input.mqtt?.username || input.droneId };
  return { config: agentConfig(input), check: values.check ?? false };
}

async function run(config: Readonly<AgentConfig>): Promise<void> {
  const logger = jsonLogger();
  const running = await startEdgeAgent(config);
  const { agent, fc, uplink } = running;
  let stopping = false;
  const health = config.healthPort === null ? null : await HealthServer.start(config.healthHost, config.healthPort, () => {
    const checks: Record<string, string> = {
      fc: agent.status().link.fcConnected ? 'ok' : `no heartbeat from the flight controller within ${config.fc.linkTimeoutMs} ms`,
      uplink: uplink.connected ? 'ok' : `not connected to ${config.uplink === 'iothub' ? 'IoT Hub' : config.mqtt.url}`,
    };
    if (stopping) checks.shutdown = 'in progress';
    return checks;
  });
  logger.log('info', 'started', {
    droneId: config.droneId, bootId: agent.bootId, fc: `${config.fc.link}:${config.fc.link === 'serial' ? config.fc.device : `${config.fc.host}:${running.fcPort}`}`, mqtt: config.mqtt.url, uplink: config.uplink,
    ...(health ? { healthUrl: `http://${config.healthHost}:${health.port}` } : {}),
  });
  const statusFile = config.statusFile ? new StatusFile(config.statusFile) : null;
  let lastFc: boolean | null = null;
  let lastUp: boolean | null = null;
  const timer = setInterval(() => {
    const status = agent.status();
    if (status.link.fcConnected !== lastFc) logger.log(status.link.fcConnected ? 'info' : 'warn', status.link.fcConnected ? 'fc link up' : 'fc link lost', { autopilot: status.autopilot, mode: status.flightModeRaw });
    if (uplink.connected !== lastUp) logger.log(uplink.connected ? 'info' : 'warn', uplink.connected ? 'uplink connected' : 'uplink down');
    lastFc = status.link.fcConnected;
    lastUp = uplink.connected;
    const spool = uplink instanceof SpoolingUplink ? { length: uplink.spool.length, bytes: uplink.spool.bytes, ...uplink.spool.stats } : null;
    statusFile?.write({ ts: new Date().toISOString(), droneId: config.droneId, bootId: agent.bootId, uplinkConnected: uplink.connected, fc: fc.stats(), streamRates: fc.streamRates, spool, counters: agent.counters, fieldAgesMs: agent.fieldAges(), status });
  }, 1000);
  // SIGTERM: readiness 503 at once; what the broker has not acknowledged goes to the spool
  // (fsynced) for the next start; exit 0. A second signal exits at once.
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.log('warn', 'second signal: exiting now', { signal });
      process.exit(1);
    }
    stopping = true;
    clearInterval(timer);
    logger.log('info', 'stopping', { signal });
    running.stop().then(() => health?.close()).then(() => {
      logger.log('info', 'stopped', { spooled: uplink instanceof SpoolingUplink ? uplink.spool.length : null });
      process.exit(0);
    }, (err: unknown) => {
      logger.log('error', 'stop failed', { error: err instanceof Error ? err.message : String(err) });
      process.exit(1);
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

async function main(): Promise<void> {
  if (process.argv[2] === 'replay') return replay(process.argv.slice(3));
  const { config, check } = loadConfig(process.argv.slice(2));
  if (check) process.exit((await runCheck(config, (line) => console.log(line))) ? 0 : 1);
  await run(config);
}

main().catch((err: unknown) => {
  if (err instanceof AgentError) {
    console.error(`aerie-agent: ${err.code}: ${err.message}\n${USAGE}`);
    process.exit(2);
  }
  console.error(`aerie-agent: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
