import { describe, expect, it } from 'vitest';
import { MavResult } from '../src/domain/mav-enums.js';
import { CopterMode } from '../src/domain/personality.js';
import { Bench, plan, takeoffItem, waypointItem, landItem, at } from './harness.js';

const ARM = 400;
const SET_MODE = 176;
const CUSTOM = 1;

describe('ArduPilot personality', () => {
  it('reports ArduCopter mode numbers and base_mode, and takes DO_SET_MODE in them', () => {
    const b = new Bench({ personality: 'ardupilot' });
    expect(b.snapshot()).toMatchObject({ personality: 'ardupilot', customMode: CopterMode.LOITER, modeName: 'LOITER' });
    // CUSTOM_MODE_ENABLED | STABILIZE | MANUAL_INPUT | GUIDED (LOITER navigates), not armed.
    expect(b.snapshot().baseMode).toBe(1 | 16 | 64 | 8);
    expect(b.command(ARM, [1])).toBe(MavResult.ACCEPTED);
    expect(b.snapshot().baseMode & 128).toBe(128);
    expect(b.command(SET_MODE, [CUSTOM, CopterMode.GUIDED])).toBe(MavResult.ACCEPTED);
    expect(b.snapshot()).toMatchObject({ customMode: CopterMode.GUIDED, modeName: 'GUIDED' });
    expect(b.command(SET_MODE, [CUSTOM, CopterMode.RTL])).toBe(MavResult.ACCEPTED);
    expect(b.snapshot().customMode).toBe(CopterMode.RTL);
    expect(b.command(SET_MODE, [CUSTOM, 99])).toBe(MavResult.DENIED);
    // SET_MODE (message) works as well, without an ACK.
    b.send({ kind: 'set-mode', baseMode: 1, customMode: CopterMode.LAND });
    expect(b.snapshot().modeName).toBe('LAND');
  });

  it('answers PARAM_REQUEST_LIST, PARAM_REQUEST_READ by id and index, and PARAM_SET with the value in force', () => {
    const b = new Bench({ personality: 'ardupilot', sysid: 4 });
    b.send({ kind: 'param-request-list', targetSystem: 4 });
    b.send({ kind: 'param-request-list', targetSystem: 9 });
    const values = b.out.flatMap((o) => (o.kind === 'param-value' ? [o] : []));
    expect(values.length).toBeGreaterThan(10);
    expect(values.every((v, i) => v.index === i && v.count === values.length)).toBe(true);
    expect(values.find((v) => v.id === 'SYSID_THISMAV')?.value).toBe(4);
    b.out.length = 0;
    b.send({ kind: 'param-request-read', id: 'RTL_ALT', index: -1, targetSystem: 4 });
    b.send({ kind: 'param-request-read', id: '', index: 0, targetSystem: 0 });
    expect(b.out.map((o) => o.kind === 'param-value' && [o.id, o.value])).toEqual([['RTL_ALT', 3000], ['SYSID_THISMAV', 4]]);
    b.out.length = 0;
    b.send({ kind: 'param-set', id: 'RTL_ALT', value: 4500, targetSystem: 4 });
    b.send({ kind: 'param-set', id: 'WPNAV_SPEED', value: 99_999, targetSystem: 4 });
    b.send({ kind: 'param-set', id: 'NO_SUCH_PARAM', value: 1, targetSystem: 4 });
    expect(b.out.map((o) => o.kind === 'param-value' && [o.id, o.value])).toEqual([['RTL_ALT', 4500], ['WPNAV_SPEED', 4000]]);
    // RTL_ALT now drives RTL: climb to 45 m before heading home.
    b.command(ARM, [1], 4);
    b.command(22, [0, 0, 0, 0, 0, 0, 10], 4);
    b.fly((s) => s.position.relAltM > 9.9, 20);
    b.command(20, [], 4);
    expect(b.fly((s) => s.position.relAltM > 43, 30)).toBe(true);
  });

  it('PX4 keeps its own parameter names and ignores REQUEST_DATA_STREAM', () => {
    const b = new Bench();
    b.send({ kind: 'param-request-read', id: 'MPC_XY_CRUISE', index: -1 });
    expect(b.out.at(-1)).toMatchObject({ kind: 'param-value', id: 'MPC_XY_CRUISE', value: 12 });
    b.send({ kind: 'request-data-stream', streamId: 6, rateHz: 1, start: true });
    expect(b.vehicle.streams.periodMs('global-position')).toBe(250);
  });
});

describe('streams and requests', () => {
  it('SET_MESSAGE_INTERVAL sets, stops and restores a stream; unknown messages are denied', () => {
    const b = new Bench();
    expect(b.command(511, [33, 100_000])).toBe(MavResult.ACCEPTED);
    expect(b.vehicle.streams.periodMs('global-position')).toBe(100);
    expect(b.command(511, [33, -1])).toBe(MavResult.ACCEPTED);
    expect(b.vehicle.streams.periodMs('global-position')).toBe(0);
    expect(b.command(511, [33, 0])).toBe(MavResult.ACCEPTED);
    expect(b.vehicle.streams.periodMs('global-position')).toBe(250);
    expect(b.command(511, [9999, 1000])).toBe(MavResult.DENIED);
  });

  it('REQUEST_DATA_STREAM sets ArduPilot stream groups', () => {
    const b = new Bench({ personality: 'ardupilot' });
    b.send({ kind: 'request-data-stream', streamId: 6, rateHz: 10, start: true });
    expect(b.vehicle.streams.periodMs('global-position')).toBe(100);
    b.send({ kind: 'request-data-stream', streamId: 2, rateHz: 2, start: true });
    expect(b.vehicle.streams.periodMs('sys-status')).toBe(500);
    b.send({ kind: 'request-data-stream', streamId: 0, rateHz: 0, start: false });
    expect(b.vehicle.streams.periodMs('vfr-hud')).toBe(0);
  });

  it('REQUEST_MESSAGE and GET_HOME_POSITION send HOME_POSITION at once; COMMAND_INT is answered like COMMAND_LONG', () => {
    const b = new Bench();
    expect(b.command(512, [242])).toBe(MavResult.ACCEPTED);
    expect(b.command(410)).toBe(MavResult.ACCEPTED);
    expect(b.out.filter((o) => o.kind === 'stream-now' && o.stream === 'home-position')).toHaveLength(2);
    b.send({ kind: 'command-int', command: ARM, frame: 0, params: [1, 0, 0, 0, 0, 0, 0] });
    expect(b.out.at(-1)).toMatchObject({ kind: 'command-ack', command: ARM, result: MavResult.ACCEPTED });
    b.send({ kind: 'command-int', command: 183, frame: 0, params: [0, 0, 0, 0, 0, 0, 0] });
    expect(b.out.at(-1)).toMatchObject({ kind: 'command-ack', command: 183, result: MavResult.UNSUPPORTED });
  });

  it('DO_GRIPPER releases and grabs the payload', () => {
    const b = new Bench({ payloadKg: 0.5 });
    expect(b.snapshot().payload).toEqual({ attached: true, massKg: 0.5 });
    expect(b.command(211, [1, 0])).toBe(MavResult.ACCEPTED);
    expect(b.snapshot().payload).toEqual({ attached: false, massKg: 0 });
    expect(b.texts()).toContain('Gripper load released');
    expect(b.command(211, [1, 1])).toBe(MavResult.ACCEPTED);
    expect(b.snapshot().payload.attached).toBe(true);
    expect(b.command(211, [1, 7])).toBe(MavResult.DENIED);
  });

  it('MISSION_SET_CURRENT jumps the running mission and answers with MISSION_CURRENT', () => {
    const b = new Bench();
    expect(b.upload(plan([takeoffItem(10), waypointItem(at(200, 0), 10), waypointItem(at(0, 200), 10), landItem(at(0, 200))]))).toBe(0);
    b.command(ARM, [1]);
    b.command(300, [0]);
    b.fly((s) => s.mission.seq === 1, 30);
    b.send({ kind: 'mission-set-current', seq: 2 });
    expect(b.out.at(-1)).toMatchObject({ kind: 'stream-now', stream: 'mission-current' });
    expect(b.snapshot().mission.seq).toBe(2);
    expect(b.command(224, [9])).toBe(MavResult.DENIED);
    // It flies to item 2 without passing item 1 (200 m north).
    let maxNorth = 0;
    b.fly((s) => s.mission.seq === 3, 120, (s) => (maxNorth = Math.max(maxNorth, (s.position.lat - s.home.lat) * 111_320)));
    expect(maxNorth).toBeLessThan(150);
  });
});
