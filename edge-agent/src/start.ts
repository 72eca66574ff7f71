import { systemClock, type Clock } from '@aerie/contracts';
import { EdgeAgent } from './app.js';
import { MavlinkFcLink } from './adapters/mavlink-fc.js';
import { MqttUplink } from './adapters/mqtt-uplink.js';
import type { AgentConfig } from './config.js';
import type { Uplink } from './ports.js';
import type * as IotHubModule from './adapters/iothub-uplink.js';
import { DiskSpool } from './adapters/disk-spool.js';
import { SpoolingUplink } from './adapters/spooling-uplink.js';
import { JournalingUplink } from './adapters/journaling-uplink.js';
import { PublishJournal } from './adapters/publish-journal.js';

export interface RunningAgent {
  agent: EdgeAgent;
  /** The local UDP port the flight controller should send to. */
  fcPort: number;
  fc: MavlinkFcLink;
  uplink: Uplink;
  stop(): Promise<void>;
}

/** Opens the FC link and the uplink (config.uplink: MQTT or IoT Hub, unless one is given) and starts the agent. */
export async function startEdgeAgent(config: Readonly<AgentConfig>, opts: { clock?: Clock; uplink?: Uplink } = {}): Promise<RunningAgent> {
  const clock = opts.clock ?? systemClock;
  const fc = await MavlinkFcLink.open(config.fc, clock);
  let uplink: Uplink;
  try {
    uplink = opts.uplink ?? (config.uplink === 'iothub' ? await connectIotHub(config) : await MqttUplink.connect(config.droneId, config.mqtt));
  } catch (err) {
    await fc.close();
    throw err;
  }
  if (config.publishJournal !== null && uplink.publishConfirmed) {
    uplink = new JournalingUplink(uplink as Uplink & Required<Pick<Uplink, 'publishConfirmed'>>, new PublishJournal(config.publishJournal, clock));
  }
  if (config.spool && uplink.publishConfirmed) {
    const { dir, maxMb, statusMaxAgeS, eventMaxAgeS } = config.spool;
    const spool = new DiskSpool(dir, { maxBytes: maxMb * 1024 * 1024, statusMaxAgeMs: statusMaxAgeS * 1000, eventMaxAgeMs: eventMaxAgeS * 1000 });
    uplink = new SpoolingUplink(uplink as Uplink & Required<Pick<Uplink, 'publishConfirmed'>>, spool, clock);
  }
  const agent = new EdgeAgent(config, fc, uplink, clock);
  agent.start();
  return { agent, fcPort: fc.port, fc, uplink, stop: () => agent.stop() };
}

/**
 * The IoT Hub transport and its SDK (azure-iot-device, azure-iot-device-mqtt) load only when that
 * transport is chosen, and from their own file: inside the agent's single-file bundle, the SDK's
 * code alone costs every MQTT drone ~13 MB of RSS even unused (bench:agent, target < 60 MB). The
 * URL is resolved at run time, so esbuild leaves it out of aerie-agent.mjs: next to the tsc output
 * it is dist/adapters/iothub-uplink.js, next to the bundle the second bundle `npm run bundle`
 * writes to dist/bundle/adapters/iothub-uplink.js (README, "Bundle and service").
 */
export async function connectIotHub(config: Readonly<AgentConfig>): Promise<Uplink> {
  const url = new URL('./adapters/iothub-uplink.js', import.meta.url).href;
  const { IotHubUplink, iothubUplinkOptions } = (await import(url)) as typeof IotHubModule;
  return IotHubUplink.connect(iothubUplinkOptions(config));
}
