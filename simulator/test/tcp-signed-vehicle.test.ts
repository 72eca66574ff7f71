import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { common, minimal, type MavLinkData } from 'node-mavlink';
import {
  MavEncoder, MavLink, UdpEndpoint, readSignature, signingKeyFromPassphrase, udpTransport, verifySignature, type ByteTransport, type MavFrame,
} from '@aerie/mavlink';
import { until } from '../../test-support/until.js';
import { WarpClock } from '../src/domain/warp-clock.js';
import { startSimVehicle } from '../src/app.js';
import { HOME, at } from './harness.js';

/** A ground station over any transport, keeping every message and frame it receives. */
class Gcs {
  readonly got: { message: MavLinkData; frame: MavFrame }[] = [];
  readonly link: MavLink;

  constructor(transport: ByteTransport, private readonly target = 1, signingKey: Buffer | null = null) {
    this.link = new MavLink(transport, { sysid: 255, compid: 190, signing: signingKey ? { key: signingKey, linkId: 1 } : null });
    this.link.on('message', (message, frame) => this.got.push({ message, frame }));
  }

  count<T extends MavLinkData>(clazz: new () => T, pred: (m: T) => boolean = () => true): number {
    return this.got.filter((g) => g.message instanceof clazz && pred(g.message)).length;
  }

  async next<T extends MavLinkData>(clazz: new () => T, pred: (m: T) => boolean, what: string): Promise<T> {
    const from = this.got.length;
    const hit = await until(() => this.got.slice(from).find((g) => g.message instanceof clazz && pred(g.message)), what);
    return hit.message as T;
  }

  async command(command: common.MavCmd, params: number[] = []): Promise<common.MavResult> {
    const msg = new common.CommandLong();
    msg.targetSystem = this.target;
    msg.targetComponent = 1;
    msg.command = command;
    [msg._param1, msg._param2, msg._param3, msg._param4, msg._param5, msg._param6, msg._param7] = [0, 1, 2, 3, 4, 5, 6].map((i) => params[i] ?? 0) as [number, number, number, number, number, number, number];
    const ack = this.next(common.CommandAck, (m) => m.command === command, `COMMAND_ACK ${command}`);
    this.link.send(msg);
    return (await ack).result;
  }

  /** [Mission protocol] MISSION_COUNT, then one MISSION_ITEM_INT per MISSION_REQUEST_INT. */
  async upload(items: common.MissionItemInt[]): Promise<common.MavMissionResult> {
    for (const i of items) i.targetSystem = this.target;
    const onRequest = (m: MavLinkData): void => {
      if (m instanceof common.MissionRequestInt && items[m.seq]) this.link.send(items[m.seq]!);
    };
    this.link.on('message', onRequest);
    const ack = this.next(common.MissionAck, () => true, 'MISSION_ACK');
    const count = new common.MissionCount();
    count.targetSystem = this.target;
    count.targetComponent = 1;
    count.count = items.length;
    count.missionType = common.MavMissionType.MISSION;
    this.link.send(count);
    try {
      return (await ack).type;
    } finally {
      this.link.off('message', onRequest);
    }
  }

  heartbeat(): void {
    const hb = new minimal.Heartbeat();
    hb.type = minimal.MavType.GCS;
    hb.autopilot = minimal.MavAutopilot.INVALID;
    hb.mavlinkVersion = 3;
    this.link.send(hb);
  }
}

function item(seq: number, command: common.MavCmd, p: { lat: number; lon: number } | null, z: number): common.MissionItemInt {
  const m = new common.MissionItemInt();
  m.targetSystem = 1;
  m.targetComponent = 1;
  m.seq = seq;
  m.frame = common.MavFrame.GLOBAL_RELATIVE_ALT_INT;
  m.command = command;
  m.autocontinue = 1;
  m.x = p ? Math.round(p.lat * 1e7) : 0;
  m.y = p ? Math.round(p.lon * 1e7) : 0;
  m.z = z;
  m.missionType = common.MavMissionType.MISSION;
  return m;
}

const dest = at(60, 20);
const mission = (): common.MissionItemInt[] => [
  item(0, common.MavCmd.NAV_TAKEOFF, null, 10), item(1, common.MavCmd.NAV_WAYPOINT, dest, 10), item(2, common.MavCmd.NAV_LAND, dest, 0),
];

/** A plain TCP client socket as a MAVLink stream transport. */
async function tcpClient(port: number): Promise<{ socket: Socket; transport: ByteTransport }> {
  const socket = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => undefined);
  const transport: ByteTransport = {
    framing: 'stream',
    send: (data) => socket.write(data),
    onData: (listener) => socket.on('data', listener),
    close: () => new Promise((resolve) => {
      if (socket.destroyed) return resolve();
      socket.once('close', () => resolve());
      socket.end();
    }),
  };
  return { socket, transport };
}

describe('SITL vehicle over TCP (a server per vehicle, as SITL tcp:5760)', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('streams to a connected client, takes a mission, arms and starts it; NACKs an item never requested', async () => {
    const vehicle = await startSimVehicle({ sysid: 1, home: HOME, clock: new WarpClock({ speedup: 20 }), transport: 'tcp', personality: 'ardupilot' });
    cleanup.push(() => vehicle.stop());
    expect(vehicle.port).toBeGreaterThan(0);
    const { transport } = await tcpClient(vehicle.port);
    const gcs = new Gcs(transport);
    cleanup.push(() => gcs.link.close());

    // Unlike UDP, nothing needs to be said first: the client is the peer.
    await until(() => gcs.count(minimal.Heartbeat) >= 2, 'two HEARTBEATs over TCP');
    expect(gcs.got.find((g) => g.message instanceof minimal.Heartbeat)!.frame).toMatchObject({ version: 2, sysid: 1, compid: 1 });

    // An item ahead of the one requested: MAV_MISSION_INVALID_SEQUENCE (13), and the upload is over.
    const nack = gcs.next(common.MissionAck, () => true, 'MISSION_ACK to an item never requested');
    const count = new common.MissionCount();
    count.targetSystem = 1;
    count.targetComponent = 1;
    count.count = 3;
    count.missionType = common.MavMissionType.MISSION;
    gcs.link.send(count);
    await gcs.next(common.MissionRequestInt, (m) => m.seq === 0, 'MISSION_REQUEST_INT 0');
    gcs.link.send(mission()[2]!);
    expect((await nack).type).toBe(common.MavMissionResult.INVALID_SEQUENCE);
    expect(vehicle.stats().mission).toMatchObject({ outOfSequence: 1, uploadsFailed: 1 });

    expect(await gcs.upload(mission())).toBe(common.MavMissionResult.ACCEPTED);
    expect(await gcs.command(common.MavCmd.COMPONENT_ARM_DISARM, [1])).toBe(common.MavResult.ACCEPTED);
    expect(await gcs.command(common.MavCmd.MISSION_START, [0, 0])).toBe(common.MavResult.ACCEPTED);
    await gcs.next(common.MissionItemReached, (m) => m.seq === 0, 'MISSION_ITEM_REACHED 0 (takeoff)');
    expect(vehicle.snapshot()).toMatchObject({ armed: true, modeName: 'AUTO' });
  });

  it('serves the stream again after a client leaves, and survives a connection reset', async () => {
    const vehicle = await startSimVehicle({ sysid: 7, home: HOME, clock: new WarpClock({ speedup: 20 }), transport: 'tcp' });
    cleanup.push(() => vehicle.stop());

    const first = await tcpClient(vehicle.port);
    const a = new Gcs(first.transport);
    await until(() => a.count(minimal.Heartbeat) >= 1, 'HEARTBEAT on the first connection');
    await a.link.close();

    const second = await tcpClient(vehicle.port);
    const b = new Gcs(second.transport);
    await until(() => b.count(minimal.Heartbeat) >= 1, 'HEARTBEAT after reconnecting');
    // An RST instead of a FIN (ECONNRESET on the vehicle's side): counted, never thrown.
    expect(vehicle.stats().link.socketErrors).toBe(0);
    second.socket.resetAndDestroy();
    await until(() => vehicle.stats().link.socketErrors > 0, 'ECONNRESET counted');

    const third = await tcpClient(vehicle.port);
    const c = new Gcs(third.transport, 7);
    cleanup.push(() => c.link.close());
    await until(() => c.count(minimal.Heartbeat) >= 1, 'HEARTBEAT after a reset');
    expect(await c.command(common.MavCmd.COMPONENT_ARM_DISARM, [1])).toBe(common.MavResult.ACCEPTED);
    expect(vehicle.stats().link.sent).toBeGreaterThan(0);
  });
});

describe('MAVLink 2 signing (--signing-passphrase)', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  const key = signingKeyFromPassphrase('aerie-test');

  /** Every packet signed with the key, with timestamps strictly increasing in the order they arrive. */
  function expectAllSigned(frames: MavFrame[], linkId: number): void {
    expect(frames.length).toBeGreaterThan(0);
    let last = -1;
    for (const f of frames) {
      expect(f.signature, `msgid ${f.msgid} seq ${f.seq}`).not.toBeNull();
      expect(f.incompatFlags & 1).toBe(1);
      expect(verifySignature(key, f.raw), `msgid ${f.msgid} seq ${f.seq}`).toBe(true);
      expect(verifySignature(signingKeyFromPassphrase('wrong'), f.raw)).toBe(false);
      const sig = readSignature(f.signature!);
      expect(sig.linkId).toBe(linkId);
      expect(sig.timestamp).toBeGreaterThan(last);
      last = sig.timestamp;
    }
  }

  it('over UDP: every packet, telemetry and events alike, verifies with the key', async () => {
    const vehicle = await startSimVehicle({
      sysid: 3, home: HOME, clock: new WarpClock({ speedup: 20 }), signing: { key, linkId: 5 }, streamHz: 10,
    });
    cleanup.push(() => vehicle.stop());
    const endpoint = await UdpEndpoint.open({ port: 0, peer: { address: '127.0.0.1', port: vehicle.port } });
    const gcs = new Gcs(udpTransport(endpoint), 3, key);
    cleanup.push(() => gcs.link.close());
    gcs.heartbeat();
    await until(() => gcs.count(common.GlobalPositionInt) >= 3, 'signed telemetry');
    expect(await gcs.upload(mission())).toBe(common.MavMissionResult.ACCEPTED);
    expect(await gcs.command(common.MavCmd.COMPONENT_ARM_DISARM, [1])).toBe(common.MavResult.ACCEPTED);
    expect(await gcs.command(common.MavCmd.MISSION_START, [0, 0])).toBe(common.MavResult.ACCEPTED);
    await gcs.next(common.MissionItemReached, (m) => m.seq === 0, 'MISSION_ITEM_REACHED 0');
    const kinds = new Set(gcs.got.map((g) => g.frame.msgid));
    // Telemetry (fast path) and events (node-mavlink path): HEARTBEAT, GLOBAL_POSITION_INT, MISSION_REQUEST_INT, MISSION_ACK, COMMAND_ACK.
    for (const id of [0, 33, 51, 47, 77]) expect(kinds.has(id), `msgid ${id}`).toBe(true);
    expectAllSigned(gcs.got.map((g) => g.frame), 5);
    expect(gcs.link.stats.badCrc).toBe(0);
  });

  it('over TCP too, and an unsigned vehicle sends no signature', async () => {
    const vehicle = await startSimVehicle({ sysid: 4, home: HOME, clock: new WarpClock({ speedup: 20 }), transport: 'tcp', signing: { key } });
    cleanup.push(() => vehicle.stop());
    const { transport } = await tcpClient(vehicle.port);
    const gcs = new Gcs(transport, 4, key);
    cleanup.push(() => gcs.link.close());
    await until(() => gcs.count(minimal.Heartbeat) >= 2, 'signed HEARTBEATs over TCP');
    expect(await gcs.command(common.MavCmd.COMPONENT_ARM_DISARM, [1])).toBe(common.MavResult.ACCEPTED);
    expectAllSigned(gcs.got.map((g) => g.frame), 0);

    const plain = await startSimVehicle({ sysid: 5, home: HOME, clock: new WarpClock({ speedup: 20 }), transport: 'tcp' });
    cleanup.push(() => plain.stop());
    const p = new Gcs((await tcpClient(plain.port)).transport);
    cleanup.push(() => p.link.close());
    await until(() => p.count(minimal.Heartbeat) >= 1, 'unsigned HEARTBEAT');
    expect(p.got.every((g) => g.frame.signature === null)).toBe(true);
  });

  it('ignores unsigned and wrongly signed commands once signing is on, as ArduPilot does', async () => {
    const vehicle = await startSimVehicle({ sysid: 6, home: HOME, clock: new WarpClock({ speedup: 20 }), transport: 'tcp', signing: { key } });
    cleanup.push(() => vehicle.stop());
    const { transport } = await tcpClient(vehicle.port);
    const signed = new Gcs(transport, 6, key);
    cleanup.push(() => signed.link.close());
    await until(() => signed.count(minimal.Heartbeat) >= 1, 'a HEARTBEAT');
    const arm = (encoder: MavEncoder) => {
      const msg = new common.CommandLong();
      msg.targetSystem = 6;
      msg.targetComponent = 1;
      msg.command = common.MavCmd.COMPONENT_ARM_DISARM;
      msg._param1 = 1;
      return encoder.encode(msg);
    };
    // Same TCP stream, in order: an unsigned ARM, an ARM signed with another key, then a signed LAND.
    transport.send(arm(new MavEncoder({ sysid: 255, compid: 190 })));
    transport.send(arm(new MavEncoder({ sysid: 255, compid: 190, signing: { key: signingKeyFromPassphrase('intruder'), linkId: 1 } })));
    await signed.command(common.MavCmd.NAV_LAND);
    // Had either ARM been taken, its COMMAND_ACK would have come before LAND's.
    expect(signed.count(common.CommandAck, (m) => m.command === common.MavCmd.COMPONENT_ARM_DISARM)).toBe(0);
    expect(vehicle.snapshot().armed).toBe(false);
  });
});
