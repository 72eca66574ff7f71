import { afterEach, describe, expect, it } from 'vitest';
import { common } from 'node-mavlink';
import { systemClock } from '@aerie/contracts';
import { MavlinkFcLink, agentConfig, toMissionItems } from '../src/index.js';
import { until } from '../../test-support/until.js';
import { startFakeFc, type FakeFc } from './fake-fc.js';

let fc: FakeFc | null = null;
let link: MavlinkFcLink | null = null;
afterEach(async () => {
  await fc?.stop();
  await link?.close();
});

const steps = [
  { kind: 'takeoff', alt: 20 }, { kind: 'waypoint', lat: 47.4, lon: 8.54, alt: 30 }, { kind: 'waypoint', lat: 47.41, lon: 8.55, alt: 30 },
  { kind: 'land', lat: 47.41, lon: 8.55 },
] as const;

/** A flight controller's mission receiver over a lossy radio: it loses the chosen messages once each. */
async function lossyFc(lose: { count?: boolean; itemSeq?: number; silent?: boolean }): Promise<{ got: number[]; counts: () => number }> {
  link = await MavlinkFcLink.open(agentConfig({ droneId: 'd1', fc: { port: 0, ackTimeoutMs: 300, streamHz: 0 } }).fc, systemClock);
  fc = await startFakeFc({ agentPort: link.port });
  const f = fc;
  let countsSeen = 0;
  const got: number[] = [];
  let lostItem = false;
  let expected = 0;
  const request = (seq: number): void => {
    const r = new common.MissionRequestInt();
    Object.assign(r, { targetSystem: 1, targetComponent: 191, seq, missionType: common.MavMissionType.MISSION });
    f.link.send(r);
  };
  f.link.on('message', (m) => {
    if (lose.silent) return;
    if (m instanceof common.MissionCount) {
      countsSeen++;
      if (lose.count && countsSeen === 1) return;
      expected = m.count;
      request(0);
    } else if (m instanceof common.MissionItemInt) {
      if (lose.itemSeq === m.seq && !lostItem) {
        lostItem = true;
        return;
      }
      got.push(m.seq);
      if (m.seq + 1 < expected) request(m.seq + 1);
      else f.link.send(Object.assign(new common.MissionAck(), { targetSystem: 1, targetComponent: 191, type: common.MavMissionResult.ACCEPTED, missionType: common.MavMissionType.MISSION }));
    }
  });
  f.heartbeat();
  await until(() => (link!.stats().frames ?? 0) >= 1, 'the FC heartbeat');
  return { got, counts: () => countsSeen };
}

describe('mission upload with per-item timeouts and retries (MAVSDK behaviour)', () => {
  it('resends MISSION_COUNT when the first is lost, and the last item when it is lost', async () => {
    const fcView = await lossyFc({ count: true, itemSeq: 2 });
    const outcome = await link!.uploadMission(toMissionItems([...steps]));
    expect(outcome).toMatchObject({ accepted: true, name: 'ACCEPTED' });
    expect(fcView.counts()).toBe(2);
    // A slow machine may retransmit more than the two losses need; each item still arrives.
    expect([...new Set(fcView.got)]).toEqual(toMissionItems([...steps]).map((i) => i.seq));
    expect(link!.stats().missionRetransmits).toBeGreaterThanOrEqual(2);
  });

  it('times out after five retries of a silent FC', async () => {
    await lossyFc({ silent: true });
    expect(await link!.uploadMission(toMissionItems([...steps]))).toBe('timeout');
    expect(link!.stats().missionRetransmits).toBe(5);
  });
});

describe('mission items from the contract', () => {
  it('maps a gripper step to MAV_CMD_DO_GRIPPER (param1 instance 1, param2 0 release / 1 grab, MAV_FRAME_MISSION)', () => {
    const items = toMissionItems([{ kind: 'land', lat: 47.41, lon: 8.55 }, { kind: 'gripper', action: 'grab' }, { kind: 'gripper', action: 'release' }]);
    expect(items.slice(1).map((i) => [i.seq, i.command, i.frame, i.params[0], i.params[1]])).toEqual([[1, 211, 2, 1, 1], [2, 211, 2, 1, 0]]);
  });
});
