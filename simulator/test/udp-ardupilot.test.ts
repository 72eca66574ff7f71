import { afterEach, describe, expect, it } from 'vitest';
import { common, minimal, type MavLinkData } from 'node-mavlink';
import { MavLink, UdpEndpoint, udpTransport } from '@aerie/mavlink';
import { WarpClock } from '../src/domain/warp-clock.js';
import { startFleet, type Fleet } from '../src/harness.js';
import { until } from '../../test-support/until.js';

/** A ground station on a real socket, counting what it hears. */
async function gcs(): Promise<{ link: MavLink; port: number; heard: MavLinkData[]; close: () => Promise<void> }> {
  const endpoint = await UdpEndpoint.open({ port: 0 });
  const link = new MavLink(udpTransport(endpoint), { sysid: 255, compid: 190 });
  const heard: MavLinkData[] = [];
  link.on('message', (m) => heard.push(m));
  return { link, port: endpoint.port, heard, close: () => link.close() };
}

let fleet: Fleet | null = null;
let ground: Awaited<ReturnType<typeof gcs>> | null = null;
afterEach(async () => {
  await fleet?.stop();
  await ground?.close();
  fleet = null;
  ground = null;
});

describe('ArduPilot personality over UDP', () => {
  it('heartbeats as ArduCopter, streams several packets per datagram, answers PARAM_REQUEST_LIST, COMMAND_INT and SET_MESSAGE_INTERVAL', async () => {
    ground = await gcs();
    const g = ground;
    fleet = await startFleet({ drones: 1, clock: new WarpClock({ speedup: 20 }), personality: 'ardupilot', peerFor: () => ({ address: '127.0.0.1', port: g.port }) });
    await until(() => g.heard.some((m) => m instanceof minimal.Heartbeat), 'HEARTBEAT', 5000);
    const hb = g.heard.find((m): m is minimal.Heartbeat => m instanceof minimal.Heartbeat)!;
    expect(hb).toMatchObject({ autopilot: minimal.MavAutopilot.ARDUPILOTMEGA, type: minimal.MavType.QUADROTOR, customMode: 5 });

    const req = new common.ParamRequestList();
    req.targetSystem = 1;
    req.targetComponent = 1;
    g.link.send(req);
    await until(() => g.heard.filter((m) => m instanceof common.ParamValue).length >= 14, 'PARAM_VALUEs', 5000);
    const rtl = g.heard.find((m): m is common.ParamValue => m instanceof common.ParamValue && m.paramId.startsWith('RTL_ALT'))!;
    expect(rtl.paramValue).toBe(3000);

    const cmd = new common.CommandInt();
    cmd.targetSystem = 1;
    cmd.targetComponent = 1;
    cmd.command = common.MavCmd.COMPONENT_ARM_DISARM;
    cmd._param1 = 1;
    g.link.send(cmd);
    await until(() => g.heard.some((m) => m instanceof common.CommandAck && m.command === common.MavCmd.COMPONENT_ARM_DISARM), 'COMMAND_ACK', 5000);
    expect(fleet.drone(1).snapshot().armed).toBe(true);
  });

  it('a dropped link goes silent both ways and comes back; corrupt bytes show as bad frames at the receiver', async () => {
    ground = await gcs();
    const g = ground;
    fleet = await startFleet({ drones: 1, clock: new WarpClock({ speedup: 20 }), peerFor: () => ({ address: '127.0.0.1', port: g.port }) });
    const d = fleet.drone(1);
    await until(() => g.heard.length > 20, 'telemetry', 5000);
    d.fault('link-drop');
    await new Promise((r) => setTimeout(r, 100));
    const n = g.heard.length;
    await new Promise((r) => setTimeout(r, 200));
    expect(g.heard.length).toBe(n);
    d.clearFault('link-drop');
    await until(() => g.heard.length > n + 10, 'telemetry after the link came back', 5000);
    d.fault('corrupt-bytes', { rate: 1 });
    await until(() => g.link.stats.badCrc > 5, 'corrupted frames', 5000);
  });
});
