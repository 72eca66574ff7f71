import { describe, expect, it } from 'vitest';
import { MavMissionResult, MissionState } from '../src/domain/mav-enums.js';
import type { VehicleOutput } from '../src/domain/types.js';
import { Bench, GCS, at, plan, rtlItem, takeoffItem, waypointItem } from './harness.js';

const requests = (out: VehicleOutput[]): number[] => out.flatMap((o) => (o.kind === 'mission-request' ? [o.seq] : []));
const acks = (out: VehicleOutput[]): number[] => out.flatMap((o) => (o.kind === 'mission-ack' ? [o.result] : []));

describe('Mission upload protocol', () => {
  const items = plan([takeoffItem(10), waypointItem(at(50, 0), 10), rtlItem()]);

  it('requests items in order and acknowledges the last with ACCEPTED, replying to the sender', () => {
    const b = new Bench();
    expect(b.upload(items)).toBe(MavMissionResult.ACCEPTED);
    expect(requests(b.out)).toEqual([0, 1, 2]);
    expect(b.out.find((o) => o.kind === 'mission-ack')).toMatchObject({ to: GCS, missionType: 0 });
    expect(b.snapshot().mission).toMatchObject({ count: 3, seq: 0, state: MissionState.NOT_STARTED });
    expect(b.clock.pendingTimers).toBe(0);
  });

  it('NACKs an item that was never requested with MAV_MISSION_INVALID_SEQUENCE and ends the upload', () => {
    const b = new Bench();
    b.send({ kind: 'mission-count', count: 3, missionType: 0 });
    b.send({ kind: 'mission-item', missionType: 0, item: items[1]! });
    expect(requests(b.out)).toEqual([0]);
    expect(b.out.at(-1)).toEqual({ kind: 'mission-ack', to: GCS, result: MavMissionResult.INVALID_SEQUENCE, missionType: 0 });
    expect(b.vehicle.transferStats).toMatchObject({ outOfSequence: 1, uploadsFailed: 1, rerequests: 0 });
    expect(b.clock.pendingTimers).toBe(0);
    // Ended: the rest of the plan is not taken, and nothing more is requested.
    for (const item of items) b.send({ kind: 'mission-item', missionType: 0, item });
    expect(acks(b.out)).toEqual([MavMissionResult.INVALID_SEQUENCE]);
    expect(requests(b.out)).toEqual([0]);
    expect(b.snapshot().mission.count).toBe(0);
    expect(b.upload(items)).toBe(MavMissionResult.ACCEPTED);
  });

  it('ignores a re-sent copy of an item already stored and carries on (a GCS retransmission that crossed our request)', () => {
    const b = new Bench();
    b.send({ kind: 'mission-count', count: 3, missionType: 0 });
    b.send({ kind: 'mission-item', missionType: 0, item: items[0]! });
    b.send({ kind: 'mission-item', missionType: 0, item: items[0]! });
    expect(requests(b.out)).toEqual([0, 1]);
    expect(acks(b.out)).toEqual([]);
    expect(b.vehicle.transferStats).toMatchObject({ duplicates: 1, outOfSequence: 0 });
    b.send({ kind: 'mission-item', missionType: 0, item: items[1]! });
    b.send({ kind: 'mission-item', missionType: 0, item: items[2]! });
    expect(acks(b.out)).toEqual([MavMissionResult.ACCEPTED]);
    expect(b.snapshot().mission.count).toBe(3);
  });

  it('re-requests after 1.5 s of silence, five times, then cancels the operation', () => {
    const b = new Bench();
    b.send({ kind: 'mission-count', count: 2, missionType: 0 });
    b.clock.advance(1499);
    expect(requests(b.out)).toEqual([0]);
    b.clock.advance(1);
    expect(requests(b.out)).toEqual([0, 0]);
    b.clock.advance(1500 * 10);
    expect(requests(b.out)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(acks(b.out)).toEqual([MavMissionResult.OPERATION_CANCELLED]);
    expect(b.snapshot().mission.count).toBe(0);
    expect(b.clock.pendingTimers).toBe(0);
  });

  it('answers other mission types with MAV_MISSION_UNSUPPORTED', () => {
    const b = new Bench();
    b.send({ kind: 'mission-count', count: 2, missionType: 1 });
    expect(b.out).toEqual([{ kind: 'mission-ack', to: GCS, result: MavMissionResult.UNSUPPORTED, missionType: 1 }]);
  });

  it('refuses an item in an unsupported frame or with an unsupported command', () => {
    const b = new Bench();
    expect(b.upload(plan([{ ...takeoffItem(10), frame: 0 }]))).toBe(MavMissionResult.UNSUPPORTED_FRAME);
    expect(b.upload(plan([{ command: 183 }]))).toBe(MavMissionResult.UNSUPPORTED);
    expect(b.snapshot().mission.count).toBe(0);
  });

  it('clears the mission with MISSION_COUNT 0 and with MISSION_CLEAR_ALL', () => {
    const b = new Bench();
    b.upload(items);
    expect(b.upload([])).toBe(MavMissionResult.ACCEPTED);
    expect(b.snapshot().mission).toMatchObject({ count: 0, state: MissionState.NO_MISSION });
    b.upload(items);
    b.send({ kind: 'mission-clear-all', missionType: 0 });
    expect(acks(b.out).at(-1)).toBe(MavMissionResult.ACCEPTED);
    expect(b.snapshot().mission.count).toBe(0);
  });

  it('serves the stored plan to a download', () => {
    const b = new Bench();
    b.upload(items);
    b.send({ kind: 'mission-request-list', missionType: 0 });
    expect(b.out.at(-1)).toMatchObject({ kind: 'mission-count', count: 3 });
    b.send({ kind: 'mission-request', missionType: 0, seq: 1 });
    expect(b.out.at(-1)).toMatchObject({ kind: 'mission-item', item: items[1] });
  });

  it('acknowledges again when the last item is re-sent after a lost MISSION_ACK', () => {
    const b = new Bench();
    b.upload(items);
    b.send({ kind: 'mission-item', missionType: 0, item: items[2]! });
    expect(acks(b.out)).toEqual([MavMissionResult.ACCEPTED, MavMissionResult.ACCEPTED]);
  });
});
