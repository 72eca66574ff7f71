import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { minimal, type MavLinkData } from 'node-mavlink';
import { MavEncoder, MavLink, SerialTransport, TcpClientTransport, type ByteTransport } from '../src/index.js';
import { until } from '../../test-support/until.js';
import { startPtyPair, type PtyPair } from '../../test-support/socat.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function heartbeat(customMode: number): minimal.Heartbeat {
  const hb = new minimal.Heartbeat();
  hb.autopilot = minimal.MavAutopilot.ARDUPILOTMEGA;
  hb.customMode = customMode;
  return hb;
}

function listen(port = 0): Promise<{ server: Server; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((s) => sockets.push(s));
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => {
    const addr = server.address();
    resolve({ server, port: typeof addr === 'object' && addr ? addr.port : 0, sockets });
  }));
}

const closeServer = (s: { server: Server; sockets: Socket[] }): Promise<void> => new Promise((r) => {
  for (const x of s.sockets) x.destroy();
  s.server.close(() => r());
});

function collect(link: MavLink): MavLinkData[] {
  const got: MavLinkData[] = [];
  link.on('message', (m) => got.push(m));
  return got;
}

describe('TCP client link', () => {
  it('survives a refused port, connects when the server appears, and reconnects after the server drops it', async () => {
    const probe = await listen();
    const port = probe.port;
    await closeServer(probe);
    const tcp = new TcpClientTransport({ host: '127.0.0.1', port, minBackoffMs: 20, maxBackoffMs: 80 });
    const link = new MavLink(tcp, { sysid: 1, compid: 191 });
    cleanups.push(() => link.close());
    const got = collect(link);
    await until(() => tcp.stats.failures >= 3, 'three refused attempts');
    expect(link.send(heartbeat(0))).toBe(false);

    const srv = await listen(port);
    cleanups.push(() => closeServer(srv));
    await until(() => tcp.isConnected && srv.sockets.length === 1, 'the client to connect');
    const fc = new MavEncoder({ sysid: 1, compid: 1 });
    // A packet split across two writes, after garbage, still arrives whole.
    const pkt = fc.encode(heartbeat(5));
    srv.sockets[0]!.write(Buffer.concat([Buffer.from('noise'), pkt.subarray(0, 4)]));
    await new Promise((r) => setTimeout(r, 20));
    srv.sockets[0]!.write(pkt.subarray(4));
    await until(() => got.length === 1, 'the heartbeat over TCP');
    expect((got[0] as minimal.Heartbeat).customMode).toBe(5);

    const received: Buffer[] = [];
    srv.sockets[0]!.on('data', (d: Buffer) => received.push(d));
    expect(link.send(heartbeat(0))).toBe(true);
    await until(() => received.length > 0, 'our heartbeat at the server');

    srv.sockets[0]!.destroy();
    await until(() => tcp.stats.connects === 2 && srv.sockets.length === 2, 'the reconnect');
    srv.sockets[1]!.write(fc.encode(heartbeat(6)));
    await until(() => got.length === 2, 'a heartbeat after reconnecting');
  });
});

describe('serial link over a socat pty pair', () => {
  it('exchanges MAVLink both ways, at the configured baud, skipping garbage', async () => {
    const pty: PtyPair = await startPtyPair();
    cleanups.push(() => pty.stop());
    const agentSide = new SerialTransport({ path: pty.a, baudRate: 57600 });
    const fcSide = new SerialTransport({ path: pty.b, baudRate: 57600 });
    const agent = new MavLink(agentSide, { sysid: 1, compid: 191 });
    const fc = new MavLink(fcSide, { sysid: 1, compid: 1 });
    cleanups.push(() => agent.close(), () => fc.close());
    const atAgent = collect(agent);
    const atFc = collect(fc);
    await until(() => agent.send(heartbeat(1)) && fc.send(heartbeat(2)), 'both ports open');
    (fcSide as ByteTransport).send(Buffer.from([0xfe, 0x09, 0x00, 0x13, 0x37]));
    fc.send(heartbeat(3));
    await until(() => atAgent.length >= 2 && atFc.length >= 1, 'heartbeats both ways');
    expect(atAgent.map((m) => (m as minimal.Heartbeat).customMode).slice(0, 2)).toEqual([2, 3]);
    expect(agent.stats.garbageBytes).toBeGreaterThan(0);
  });

  it('keeps retrying a device that does not exist, without throwing', async () => {
    const serial = new SerialTransport({ path: '/dev/aerie-no-such-tty', baudRate: 57600, reopenMs: 20 });
    cleanups.push(() => serial.close());
    await until(() => serial.stats.failures >= 2, 'two failed opens');
    expect(serial.send(Buffer.from([1]))).toBe(false);
  });
});
