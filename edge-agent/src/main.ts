#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { agentConfig } from './config.js';
import { startEdgeAgent } from './start.js';
import { AgentError } from './errors.js';
import { replayTlog } from './replay.js';
import type { DroneEvent } from '@aerie/contracts';

const USAGE = `usage: aerie-agent replay FILE.tlog [--publish-hz N (2)] [--events]
       aerie-agent --drone-id ID --mqtt-url URL --mqtt-username U --mqtt-password P
                   [--fc-listen HOST:PORT (127.0.0.1:14550)] [--fc-peer HOST:PORT] [--publish-hz N (2)]
  --fc-listen  UDP address the agent listens on for the flight controller (PX4 SITL and
               ArduPilot send to 14550); replies go to the FC's actual address and port
  --fc-peer    send to this flight controller address instead of learning it
environment: AERIE_AGENT_DRONE_ID, AERIE_AGENT_MQTT_URL, AERIE_AGENT_MQTT_USERNAME, AERIE_AGENT_MQTT_PASSWORD`;

function hostPort(raw: string, flag: string): { host: string; port: number } {
  const i = raw.lastIndexOf(':');
  const port = Number(raw.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new AgentError('AGENT_ERR_CONFIG', `${flag} must be HOST:PORT, got "${raw}"`);
  return { host: raw.slice(0, i), port };
}

/** `aerie-agent replay FILE.tlog [--publish-hz N]`: DroneStatus JSON lines, then the summary line. */
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

async function main(): Promise<void> {
  if (process.argv[2] === 'replay') return replay(process.argv.slice(3));
  const { values } = parseArgs({
    options: {
      'drone-id': { type: 'string' }, 'mqtt-url': { type: 'string' }, 'mqtt-username': { type: 'string' }, 'mqtt-password': { type: 'string' },
      'fc-listen': { type: 'string' }, 'fc-peer': { type: 'string' }, 'publish-hz': { type: 'string' },
    },
  });
  const env = process.env;
  const droneId = values['drone-id'] ?? env.AERIE_AGENT_DRONE_ID;
  if (!droneId) throw new AgentError('AGENT_ERR_CONFIG', '--drone-id is required');
  const listen = hostPort(values['fc-listen'] ?? '127.0.0.1:14550', '--fc-listen');
  const peer = values['fc-peer'] ? hostPort(values['fc-peer'], '--fc-peer') : null;
  const config = agentConfig({
    droneId,
    fc: { host: listen.host, port: listen.port, peer: peer ? { address: peer.host, port: peer.port } : null },
    mqtt: {
      url: values['mqtt-url'] ?? env.AERIE_AGENT_MQTT_URL ?? 'mqtt://127.0.0.1:1883',
      username: values['mqtt-username'] ?? env.AERIE_AGENT_MQTT_USERNAME ?? droneId,
      password: values['mqtt-password'] ?? env.AERIE_AGENT_MQTT_PASSWORD ?? '',
    },
    ...(values['publish-hz'] ? { publishHz: Number(values['publish-hz']) } : {}),
  });
  const running = await startEdgeAgent(config);
  console.log(`aerie-agent ${droneId}: flight controller on udp://${listen.host}:${running.fcPort}, MQTT ${config.mqtt.url}`);
  const stop = () => void running.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  if (err instanceof AgentError) {
    console.error(`aerie-agent: ${err.code}: ${err.message}\n${USAGE}`);
    process.exit(2);
  }
  console.error(`aerie-agent: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
