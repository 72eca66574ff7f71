import { common, minimal, type MavLinkData } from 'node-mavlink';
import { MavLink, UdpEndpoint, udpTransport, type SigningConfig } from '@aerie/mavlink';

export interface FakeFc {
  link: MavLink;
  port: number;
  received: MavLinkData[];
  heartbeat(customMode?: number): void;
  stop(): Promise<void>;
}

/**
 * A scripted flight controller on a real UDP socket, for behaviours the simulator does not have
 * (SET_MESSAGE_INTERVAL acks, signing). `answer` decides each COMMAND_LONG's MAV_RESULT; null stays silent.
 */
export async function startFakeFc(opts: {
  agentPort: number;
  answer?: (cmd: common.CommandLong) => number | null;
  signing?: SigningConfig;
  autopilot?: number;
  type?: number;
  version?: 1 | 2;
}): Promise<FakeFc> {
  const endpoint = await UdpEndpoint.open({ port: 0, peer: { address: '127.0.0.1', port: opts.agentPort } });
  endpoint.on('error', () => undefined);
  // A signing FC also refuses what is not signed with its key, as ArduPilot does once a key is set.
  const link = new MavLink(udpTransport(endpoint), { sysid: 1, compid: 1, version: opts.version ?? 2, signing: opts.signing ?? null }, {
    incomingSigning: opts.signing ? { key: opts.signing.key, unsigned: 'reject' } : null,
  });
  const received: MavLinkData[] = [];
  link.on('message', (m) => {
    received.push(m);
    if (m instanceof common.CommandLong && opts.answer) {
      const result = opts.answer(m);
      if (result === null) return;
      const ack = new common.CommandAck();
      ack.command = m.command;
      ack.result = result;
      link.send(ack);
    }
  });
  return {
    link, port: endpoint.port, received,
    heartbeat: (customMode = 3) => {
      const hb = new minimal.Heartbeat();
      hb.type = opts.type ?? minimal.MavType.QUADROTOR;
      hb.autopilot = opts.autopilot ?? minimal.MavAutopilot.ARDUPILOTMEGA;
      hb.baseMode = minimal.MavModeFlag.CUSTOM_MODE_ENABLED;
      hb.customMode = customMode;
      hb.systemStatus = minimal.MavState.STANDBY;
      hb.mavlinkVersion = 3;
      link.send(hb);
    },
    stop: () => link.close(),
  };
}
