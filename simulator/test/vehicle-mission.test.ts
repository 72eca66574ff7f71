import { describe, expect, it } from 'vitest';
import { haversineM } from '@aerie/contracts';
import { MavLandedState, MavMissionResult, MavResult, MissionState } from '../src/domain/mav-enums.js';
import { PX4_MODES, encodeCustomMode } from '../src/domain/px4-mode.js';
import type { VehicleSnapshot } from '../src/domain/types.js';
import { Bench, HOME, at, delayItem, landItem, plan, rtlItem, takeoffItem, waypointItem } from './harness.js';

const ARM = 400;
const MISSION_START = 300;

describe('Vehicle mission execution', () => {
  it('flies a delivery (takeoff, pickup landing, delay, takeoff, dropoff landing, RTL) to completion', () => {
    const b = new Bench();
    const pickup = at(300, 200);
    const dropoff = at(-250, 400);
    const items = plan([
      takeoffItem(20), waypointItem(pickup, 30), landItem(pickup), delayItem(5),
      takeoffItem(25), waypointItem(dropoff, 30), landItem(dropoff), rtlItem(),
    ]);
    expect(b.upload(items)).toBe(MavMissionResult.ACCEPTED);
    expect(b.command(ARM, [1])).toBe(MavResult.ACCEPTED);
    expect(b.command(MISSION_START, [0, 0])).toBe(MavResult.ACCEPTED);
    expect(b.snapshot().customMode).toBe(encodeCustomMode(PX4_MODES.AUTO_MISSION));

    const landedStates: number[] = [MavLandedState.ON_GROUND];
    const touchdowns: VehicleSnapshot['position'][] = [];
    let maxSpeed = 0;
    const finished = b.fly((s) => !s.armed, 900, (s) => {
      maxSpeed = Math.max(maxSpeed, s.groundSpeedMs);
      if (s.landedState !== landedStates.at(-1)) {
        landedStates.push(s.landedState);
        if (s.landedState === MavLandedState.ON_GROUND) touchdowns.push(s.position);
      }
    });
    expect(finished).toBe(true);

    const { ON_GROUND, TAKEOFF, IN_AIR, LANDING } = MavLandedState;
    expect(landedStates).toEqual([
      ON_GROUND, TAKEOFF, IN_AIR, LANDING, ON_GROUND, TAKEOFF, IN_AIR, LANDING, ON_GROUND, TAKEOFF, IN_AIR, LANDING, ON_GROUND,
    ]);
    expect(touchdowns).toHaveLength(3);
    expect(haversineM(touchdowns[0]!, pickup)).toBeLessThan(3);
    expect(haversineM(touchdowns[1]!, dropoff)).toBeLessThan(3);
    expect(haversineM(touchdowns[2]!, HOME)).toBeLessThan(3);
    expect(maxSpeed).toBeGreaterThan(11);
    expect(maxSpeed).toBeLessThanOrEqual(12.01);

    const reached = b.out.flatMap((o) => (o.kind === 'mission-item-reached' ? [o.seq] : []));
    expect(reached).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);

    const end = b.snapshot();
    expect(end.armed).toBe(false);
    expect(end.landedState).toBe(ON_GROUND);
    expect(end.customMode).toBe(encodeCustomMode(PX4_MODES.AUTO_LOITER));
    expect(end.mission).toMatchObject({ count: 8, seq: 7, state: MissionState.COMPLETE });
    expect(end.battery.remainingPct).toBeLessThan(100);
    expect(end.battery.remainingPct).toBeGreaterThan(50);
    expect(end.battery.voltageV).toBeLessThan(16.8);
    expect(b.texts()).toEqual(expect.arrayContaining(['Armed by external command', 'Takeoff detected', 'Landing detected', 'Mission finished', 'Disarmed by landing']));
  });

  it('runs MAV_CMD_DO_GRIPPER mission items in order: grabs after the pickup landing, releases after the dropoff landing (STATUSTEXT each)', () => {
    const b = new Bench();
    const gripper = (action: 0 | 1) => ({ command: 211, frame: 2, param1: 1, param2: action });
    const items = plan([takeoffItem(10), landItem(at(50, 0)), gripper(1), delayItem(2), takeoffItem(10), landItem(at(100, 0)), gripper(0), delayItem(2), rtlItem()]);
    expect(b.upload(items)).toBe(MavMissionResult.ACCEPTED);
    b.command(ARM, [1]);
    b.command(MISSION_START, [0]);
    const attached: boolean[] = [false];
    expect(b.fly((s) => !s.armed, 300, (s) => {
      if (s.payload.attached !== attached.at(-1)) attached.push(s.payload.attached);
    })).toBe(true);
    expect(attached).toEqual([false, true, false]);
    const texts = b.texts().filter((t) => t.startsWith('Gripper'));
    expect(texts).toEqual(['Gripper load grabbed', 'Gripper load released']);
    expect(b.out.flatMap((o) => (o.kind === 'mission-item-reached' ? [o.seq] : []))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('stays armed on the ground through a delay item and waits for it', () => {
    const b = new Bench();
    b.upload(plan([takeoffItem(5), landItem({ lat: 0, lon: 0 }), delayItem(20), takeoffItem(5)]));
    b.command(ARM, [1]);
    b.command(MISSION_START, [0]);
    expect(b.fly((s) => s.mission.seq === 2, 60)).toBe(true);
    const landedAt = b.clock.now();
    expect(b.snapshot()).toMatchObject({ armed: true, landedState: MavLandedState.ON_GROUND });
    expect(b.fly((s) => s.landedState === MavLandedState.TAKEOFF, 60)).toBe(true);
    expect(b.clock.now() - landedAt).toBeGreaterThanOrEqual(20_000);
    // Mission ends in the air: PX4 holds there in AUTO.LOITER, still armed.
    expect(b.fly((s) => s.mission.state === MissionState.COMPLETE, 30)).toBe(true);
    expect(b.snapshot()).toMatchObject({ armed: true, landedState: MavLandedState.IN_AIR, customMode: encodeCustomMode(PX4_MODES.AUTO_LOITER) });
  });

  it('arming in AUTO.MISSION starts the mission; MISSION_CURRENT tracks the item', () => {
    const b = new Bench();
    b.upload(plan([takeoffItem(10), waypointItem(at(100, 0), 10), landItem(at(100, 0))]));
    expect(b.snapshot().mission.state).toBe(MissionState.NOT_STARTED);
    expect(b.command(176, [1, 4, 4])).toBe(MavResult.ACCEPTED);
    expect(b.snapshot().armed).toBe(false);
    b.command(ARM, [1]);
    expect(b.fly((s) => s.mission.seq === 1, 30)).toBe(true);
    expect(b.snapshot().mission.state).toBe(MissionState.ACTIVE);
    expect(b.fly((s) => !s.armed, 120)).toBe(true);
    expect(haversineM(b.snapshot().position, at(100, 0))).toBeLessThan(3);
  });
});
