/**
 * The agent process measured by bench:agent: the real FC link (UDP), assembler and publish loop,
 * with an uplink that serialises every message as the MQTT adapter would and counts it.
 * Talks to the parent over IPC: sends { fcPort }, answers 'mark' and 'report'.
 */
import { encodeMessage, type CommandResult, type DroneEvent, type DroneStatus } from '@aerie/contracts';
import { agentConfig } from '../config.js';
import { startEdgeAgent } from '../start.js';
import type { Uplink } from '../ports.js';

let bytesOut = 0;
let statuses = 0;
const uplink: Uplink = {
  connected: true,
  publishStatus: (s: DroneStatus) => {
    bytesOut += encodeMessage(s).length;
    statuses += 1;
  },
  publishEvent: (e: DroneEvent) => void (bytesOut += encodeMessage(e).length),
  publishResult: (r: CommandResult) => void (bytesOut += encodeMessage(r).length),
  onCommand: () => undefined,
  close: () => Promise.resolve(),
};

const running = await startEdgeAgent(agentConfig({ droneId: 'bench-1', fc: { port: 0, streamHz: 0 }, publishHz: 5, publishHzInFlight: 5 }), { uplink });
let mark = { cpu: process.cpuUsage(), at: process.hrtime.bigint(), statuses: 0 };
process.on('message', (m) => {
  if (m === 'mark') {
    mark = { cpu: process.cpuUsage(), at: process.hrtime.bigint(), statuses };
    process.send?.({ marked: true });
  } else if (m === 'report') {
    const cpu = process.cpuUsage(mark.cpu);
    const wallUs = Number(process.hrtime.bigint() - mark.at) / 1000;
    process.send?.({ rss: process.memoryUsage().rss, cpuUs: cpu.user + cpu.system, wallUs, statuses: statuses - mark.statuses, bytesOut, fc: running.fc.stats() });
  } else if (m === 'stop') {
    void running.stop().then(() => process.exit(0));
  }
});
process.send?.({ fcPort: running.fcPort });
