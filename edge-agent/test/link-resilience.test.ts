import { afterEach, describe, expect, it } from 'vitest';
import { minimal } from 'node-mavlink';
import { systemClock } from '@aerie/contracts';
import { MavEncoder, UdpEndpoint } from '@aerie/mavlink';
import { ManualClock, WarpClock, startSimVehicle, type SimVehicle } from '@aerie/simulator';
import { EdgeAgent, MavlinkFcLink, MemoryUplink, agentConfig, startEdgeAgent, type FlightControllerLink, type RunningAgent } from '../src/index.js';
import type { FcTelemetry } from '../src/domain/telemetry.js';
import { freePort } from '../../test-support/servers.js';
import { until } from '../../test-support/until.js';

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('the FC link never crashes on what the wire brings', () => {
  it('garbage, truncated packets, bad CRCs and unknown ids over UDP are counted and skipped; every valid packet after them arrives', async () => {
    const link = await MavlinkFcLink.open(agentConfig({ droneId: 'd1', fc: { port: 0, streamHz: 0 } }).fc, systemClock);
    cleanups.push(() => link.close());
    const beats: number[] = [];
    link.onTelemetry((t: FcTelemetry) => void (t.kind === 'heartbeat' && beats.push(t.customMode)));
    const fc = await UdpEndpoint.open({ port: 0, peer: { address: '127.0.0.1', port: link.port } });
    cleanups.push(() => fc.close());
    const enc = new MavEncoder({ sysid: 1, compid: 1 });
    const hb = (customMode: number): Buffer => enc.encode(Object.assign(new minimal.Heartbeat(), {
      type: minimal.MavType.QUADROTOR, autopilot: minimal.MavAutopilot.ARDUPILOTMEGA, customMode, mavlinkVersion: 3,
    }));
    const badCrc = hb(1);
    badCrc[badCrc.length - 1]! ^= 0xff;
    const truncated = hb(2).subarray(0, 8);
    const unknownId = Buffer.from('fd010000000101563412ffffff', 'hex'); // msgid 0x123456: no dialect defines it
    const random = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 131 + 7) & 0xff));
    const valid = [3, 4, 5, 6];
    // Each datagram mixes damage with one valid packet; the last datagrams are nothing but damage.
    fc.send(Buffer.concat([random, hb(valid[0]!)]));
    fc.send(Buffer.concat([badCrc, hb(valid[1]!), truncated]));
    fc.send(Buffer.concat([unknownId, hb(valid[2]!)]));
    fc.send(Buffer.concat([Buffer.from([0xfd, 0xff, 0x00]), hb(valid[3]!)]));
    fc.send(random);
    fc.send(truncated);
    await until(() => beats.length === valid.length && link.stats().truncated! >= 2, 'the valid heartbeats and the damage counted');
    expect(beats).toEqual(valid);
    const s = link.stats();
    expect(s.frames).toBe(valid.length);
    expect(s.badCrc).toBeGreaterThanOrEqual(1);
    expect(s.unknownMsgid).toBe(1);
    expect(s.garbageBytes).toBeGreaterThan(300);
    // Still alive and listening after it all.
    fc.send(hb(9));
    await until(() => beats.at(-1) === 9, 'a heartbeat after the garbage');
  });
});

describe('UDP link addressing', () => {
  it('replies to the FC\'s actual address and port; with fc.peer, sends to that peer before hearing anything', async () => {
    const link = await MavlinkFcLink.open(agentConfig({ droneId: 'd1', fc: { port: 0, streamHz: 0 } }).fc, systemClock);
    cleanups.push(() => link.close());
    // The FC sends from an ephemeral port of its own: the agent learns it from the datagram.
    const fc = await UdpEndpoint.open({ port: 0, peer: { address: '127.0.0.1', port: link.port } });
    cleanups.push(() => fc.close());
    const got: Buffer[] = [];
    fc.on('datagram', (d) => got.push(d));
    fc.send(new MavEncoder({ sysid: 1, compid: 1 }).encode(Object.assign(new minimal.Heartbeat(), { type: 2, autopilot: 3, mavlinkVersion: 3 })));
    await until(() => link.stats().frames === 1, 'the FC heartbeat');
    link.sendHeartbeat();
    await until(() => got.length > 0, 'our heartbeat back at the FC\'s own port');

    const fixed = await UdpEndpoint.open({ port: 0 });
    cleanups.push(() => fixed.close());
    const atPeer: Buffer[] = [];
    fixed.on('datagram', (d) => atPeer.push(d));
    const toPeer = await MavlinkFcLink.open(agentConfig({ droneId: 'd2', fc: { port: 0, streamHz: 0, peer: { address: '127.0.0.1', port: fixed.port } } }).fc, systemClock);
    cleanups.push(() => toPeer.close());
    toPeer.sendHeartbeat();
    await until(() => atPeer.length > 0, 'a heartbeat at the configured peer');
    expect(atPeer[0]![0]).toBe(0xfd);
  });
});

describe('TCP link to the flight controller (as ArduPilot SITL serves tcp:5760)', () => {
  it('connects, reports, and reconnects with backoff after the FC goes away and comes back on the same port', async () => {
    const clock = new WarpClock({ speedup: 10 });
    const port = await freePort();
    let vehicle: SimVehicle = await startSimVehicle({ sysid: 3, home: { lat: 47.3977, lon: 8.5456, altMsl: 488 }, clock, port, transport: 'tcp', personality: 'ardupilot' });
    cleanups.push(() => vehicle.stop());
    const uplink = new MemoryUplink();
    const agent: RunningAgent = await startEdgeAgent(agentConfig({ droneId: 'd-tcp', fc: { link: 'tcp', host: '127.0.0.1', port } }), { clock, uplink });
    cleanups.push(() => agent.stop());
    await until(() => uplink.statuses.find((s) => s.autopilot === 'ardupilot' && s.position), 'a status over TCP');
    await vehicle.stop();
    await until(() => uplink.events.find((e) => e.kind === 'link_lost'), 'link lost after the FC went away', 20_000);
    vehicle = await startSimVehicle({ sysid: 3, home: { lat: 47.3977, lon: 8.5456, altMsl: 488 }, clock, port, transport: 'tcp', personality: 'ardupilot' });
    await until(() => uplink.events.find((e) => e.kind === 'link_recovered'), 'link recovered over a new TCP connection', 20_000);
    expect(agent.fc.stats()).toMatchObject({ badCrc: 0 });
  });
});

/** The agent's view of an FC, in memory: counts our heartbeats and lets the test push telemetry. */
function memoryFc(): FlightControllerLink & { heartbeatsSent: number; push(t: FcTelemetry): void } {
  const listeners: ((t: FcTelemetry) => void)[] = [];
  return {
    heartbeatsSent: 0,
    push: (t) => listeners.forEach((l) => l(t)),
    onTelemetry: (l) => void listeners.push(l),
    sendHeartbeat() {
      this.heartbeatsSent += 1;
    },
    commandLong: () => Promise.resolve('timeout'),
    uploadMission: () => Promise.resolve('timeout'),
    requestStreams: () => Promise.resolve({ method: 'none', acks: {} }),
    stats: () => ({}),
    close: () => Promise.resolve(),
  };
}

describe('timing on the agent\'s clock', () => {
  it('heartbeat out at 1 Hz; DroneStatus at publishHz on the ground and publishHzInFlight in the air, with one bootId and a monotonic seq', () => {
    const clock = new ManualClock(1_700_000_000_000);
    const fc = memoryFc();
    const uplink = new MemoryUplink();
    const agent = new EdgeAgent(agentConfig({ droneId: 'd1', publishHz: 2, publishHzInFlight: 5 }), fc, uplink, clock);
    agent.start();
    cleanups.push(() => agent.stop());
    const beat = (landedState: number): void => {
      fc.push({ kind: 'heartbeat', autopilot: 3, vehicleType: 2, baseMode: 0x81, customMode: 3, systemStatus: 4 });
      fc.push({ kind: 'extSysState', landedState });
    };
    beat(1); // ON_GROUND
    for (let i = 0; i < 10; i++) {
      clock.advance(1000);
      beat(1);
    }
    expect(fc.heartbeatsSent).toBe(11); // one at start, then one per second
    const ground = uplink.statuses.length;
    expect(ground).toBeGreaterThanOrEqual(19);
    expect(ground).toBeLessThanOrEqual(21);
    beat(2); // IN_AIR from here on
    for (let i = 0; i < 10; i++) {
      clock.advance(1000);
      beat(2);
    }
    const air = uplink.statuses.length - ground;
    expect(air).toBeGreaterThanOrEqual(48);
    expect(air).toBeLessThanOrEqual(51);
    expect(new Set(uplink.statuses.map((s) => s.bootId))).toEqual(new Set([agent.bootId]));
    expect(uplink.statuses.map((s) => s.seq)).toEqual(uplink.statuses.map((_, i) => i));
    expect(fc.heartbeatsSent).toBe(21);
  });
});
