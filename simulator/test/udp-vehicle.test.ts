import { afterEach, describe, expect, it } from 'vitest';
import { common, minimal, type MavLinkData } from 'node-mavlink';
import { MavLink, UdpEndpoint, udpTransport } from '@aerie/mavlink';
import { haversineM } from '@aerie/contracts';
import { WarpClock } from '../src/domain/warp-clock.js';
import { startSimVehicle, type SimVehicle } from '../src/app.js';
import { startSimFleet, type SimFleet } from '../src/fleet.js';
import { HOME, at } from './harness.js';

/** Real-time bound for any one wait; the flights below take well under a second at 50x. */
const WAIT_MS = 5000;

/** A fake ground station: MAVLink 2 from sysid 255 to a fixed peer. */
class Gcs {
  private constructor(readonly link: MavLink) {}

  static async open(vehiclePort: number): Promise<Gcs> {
    const endpoint = await UdpEndpoint.open({ port: 0, peer: { address: '127.0.0.1', port: vehiclePort } });
    return new Gcs(new MavLink(udpTransport(endpoint), { sysid: 255, compid: 190 }));
  }

  waitFor<T extends MavLinkData>(match: (m: MavLinkData) => m is T, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.link.off('message', onMessage);
        reject(new Error(`timed out waiting for ${what}`));
      }, WAIT_MS);
      const onMessage = (m: MavLinkData): void => {
        if (!match(m)) return;
        clearTimeout(timer);
        this.link.off('message', onMessage);
        resolve(m);
      };
      this.link.on('message', onMessage);
    });
  }

  async command(command: common.MavCmd, params: number[] = []): Promise<common.MavResult> {
    const msg = new common.CommandLong();
    msg.targetSystem = 1;
    msg.targetComponent = 1;
    msg.command = command;
    [msg._param1, msg._param2, msg._param3, msg._param4, msg._param5, msg._param6, msg._param7] = [0, 1, 2, 3, 4, 5, 6].map((i) => params[i] ?? 0) as [number, number, number, number, number, number, number];
    const ack = this.waitFor((m): m is common.CommandAck => m instanceof common.CommandAck && m.command === command, `COMMAND_ACK ${command}`);
    this.link.send(msg);
    return (await ack).result;
  }

  /** [Mission protocol] upload: MISSION_COUNT, then one MISSION_ITEM_INT per MISSION_REQUEST_INT. */
  async upload(items: common.MissionItemInt[]): Promise<common.MavMissionResult> {
    const onRequest = (m: MavLinkData): void => {
      if (m instanceof common.MissionRequestInt && items[m.seq]) this.link.send(items[m.seq]!);
    };
    this.link.on('message', onRequest);
    const ack = this.waitFor((m): m is common.MissionAck => m instanceof common.MissionAck, 'MISSION_ACK');
    const count = new common.MissionCount();
    count.targetSystem = 1;
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
    hb.systemStatus = minimal.MavState.ACTIVE;
    hb.mavlinkVersion = 3;
    this.link.send(hb);
  }

  close(): Promise<void> {
    return this.link.close();
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
  m.param2 = command === common.MavCmd.NAV_WAYPOINT ? 2 : 0;
  m.x = p ? Math.round(p.lat * 1e7) : 0;
  m.y = p ? Math.round(p.lon * 1e7) : 0;
  m.z = z;
  m.missionType = common.MavMissionType.MISSION;
  return m;
}

describe('SITL vehicle over UDP', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('speaks PX4 MAVLink 2 to a ground station and flies an uploaded mission', async () => {
    const vehicle: SimVehicle = await startSimVehicle({ sysid: 1, home: HOME, clock: new WarpClock({ speedup: 50 }), port: 0 });
    cleanup.push(() => vehicle.stop());
    const gcs = await Gcs.open(vehicle.port);
    cleanup.push(() => gcs.close());

    const versions = new Set<number>();
    gcs.link.on('message', (_m, frame) => versions.add(frame.version));
    // With no fixed peer the vehicle answers whoever spoke last, so the GCS speaks first.
    const hb = gcs.waitFor((m): m is minimal.Heartbeat => m instanceof minimal.Heartbeat, 'HEARTBEAT');
    gcs.heartbeat();
    const first = await hb;
    expect(first.autopilot).toBe(minimal.MavAutopilot.PX4);
    expect(first.type).toBe(minimal.MavType.QUADROTOR);
    expect(first.customMode).toBe(0x03040000);

    const dest = at(80, 30);
    const result = await gcs.upload([
      item(0, common.MavCmd.NAV_TAKEOFF, null, 10),
      item(1, common.MavCmd.NAV_WAYPOINT, dest, 10),
      item(2, common.MavCmd.NAV_LAND, dest, 0),
    ]);
    expect(result).toBe(common.MavMissionResult.ACCEPTED);

    const positions: common.GlobalPositionInt[] = [];
    gcs.link.on('message', (m) => {
      if (m instanceof common.GlobalPositionInt) positions.push(m);
    });
    const lastReached = gcs.waitFor((m): m is common.MissionItemReached => m instanceof common.MissionItemReached && m.seq === 2, 'MISSION_ITEM_REACHED 2');
    expect(await gcs.command(common.MavCmd.COMPONENT_ARM_DISARM, [1])).toBe(common.MavResult.ACCEPTED);
    expect(await gcs.command(common.MavCmd.MISSION_START, [0, 0])).toBe(common.MavResult.ACCEPTED);
    await lastReached;

    const landed = await gcs.waitFor(
      (m): m is common.ExtendedSysState => m instanceof common.ExtendedSysState && m.landedState === common.MavLandedState.ON_GROUND,
      'EXTENDED_SYS_STATE ON_GROUND',
    );
    expect(landed.landedState).toBe(common.MavLandedState.ON_GROUND);
    const disarmed = await gcs.waitFor(
      (m): m is minimal.Heartbeat => m instanceof minimal.Heartbeat && (m.baseMode & minimal.MavModeFlag.SAFETY_ARMED) === 0,
      'disarmed HEARTBEAT',
    );
    expect(disarmed.customMode).toBe(0x03040000);

    const maxRelAlt = Math.max(...positions.map((p) => p.relativeAlt));
    expect(maxRelAlt).toBeGreaterThan(9000);
    const last = positions.at(-1)!;
    expect(haversineM({ lat: last.lat / 1e7, lon: last.lon / 1e7 }, dest)).toBeLessThan(3);
    expect(new Set(positions.map((p) => p.lat)).size).toBeGreaterThan(5);
    expect([...versions]).toEqual([2]);
    expect(vehicle.snapshot()).toMatchObject({ armed: false, landedState: common.MavLandedState.ON_GROUND });
  });

  it('starts a fleet with sysids 1..N on distinct ports, each streaming to its own peer', async () => {
    const listeners = await Promise.all([0, 1, 2].map(() => UdpEndpoint.open({ port: 0 })));
    cleanup.push(async () => {
      await Promise.all(listeners.map((l) => l.close()));
    });
    const links = listeners.map((l) => new MavLink(udpTransport(l), { sysid: 255, compid: 190 }));
    const fleet: SimFleet = await startSimFleet({
      count: 3, home: HOME, spacingM: 10, clock: new WarpClock({ speedup: 10 }),
      peerFor: (i) => ({ address: '127.0.0.1', port: listeners[i]!.port }),
    });
    cleanup.push(() => fleet.stop());
    expect(fleet.vehicles.map((v) => v.sysid)).toEqual([1, 2, 3]);
    expect(new Set(fleet.vehicles.map((v) => v.port)).size).toBe(3);
    const sysids = await Promise.all(links.map((link) => new Promise<number>((resolve) => {
      link.once('message', (_m, frame) => resolve(frame.sysid));
    })));
    expect(sysids).toEqual([1, 2, 3]);
    const homes = fleet.vehicles.map((v) => v.snapshot().home);
    expect(haversineM(homes[0]!, homes[1]!)).toBeCloseTo(10, 0);
  });
});
