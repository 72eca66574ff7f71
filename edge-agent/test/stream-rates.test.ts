import { afterEach, describe, expect, it } from 'vitest';
import { common } from 'node-mavlink';
import { systemClock } from '@aerie/contracts';
import { MavlinkFcLink, agentConfig } from '../src/index.js';
import { until } from '../../test-support/until.js';
import { startFakeFc, type FakeFc } from './fake-fc.js';

let fc: FakeFc | null = null;
let agent: MavlinkFcLink | null = null;
afterEach(async () => {
  await fc?.stop();
  await agent?.close();
  fc = null;
  agent = null;
});

const ACCEPTED = 0;
const UNSUPPORTED = 3;

async function run(answer: (cmd: common.CommandLong) => number | null): Promise<{ fc: FakeFc; agent: MavlinkFcLink }> {
  agent = await MavlinkFcLink.open(agentConfig({ droneId: 'd1', fc: { port: 0, ackTimeoutMs: 100, streamHz: 5 } }).fc, systemClock);
  fc = await startFakeFc({ agentPort: agent.port, answer });
  fc.heartbeat();
  await until(() => agent!.streamRates, 'the stream-rate request to finish');
  return { fc, agent };
}

const intervals = (f: FakeFc): number[] => f.received.filter((m): m is common.CommandLong => m instanceof common.CommandLong && Number(m.command) === 511).map((m) => m._param1);

describe('stream rates', () => {
  it('asks each message with SET_MESSAGE_INTERVAL, EXTENDED_SYS_STATE and BATTERY_STATUS included, and reads the ACKs', async () => {
    const { fc: f, agent: a } = await run(() => ACCEPTED);
    expect(a.streamRates?.method).toBe('message-interval');
    expect(intervals(f)).toEqual(expect.arrayContaining([33, 74, 1, 24, 42, 245, 147]));
    const c = f.received.find((m): m is common.CommandLong => m instanceof common.CommandLong)!;
    expect(c._param2).toBe(200_000);
    expect(f.received.some((m) => m instanceof common.RequestDataStream)).toBe(false);
    expect(a.streamRates?.acks.EXTENDED_SYS_STATE).toBe('ACCEPTED');
  });

  it('falls back to REQUEST_DATA_STREAM when the FC answers UNSUPPORTED', async () => {
    const { fc: f, agent: a } = await run(() => UNSUPPORTED);
    expect(a.streamRates?.method).toBe('data-stream');
    await until(() => f.received.filter((m) => m instanceof common.RequestDataStream).length === 5, 'five REQUEST_DATA_STREAM');
    const streams = f.received.filter((m): m is common.RequestDataStream => m instanceof common.RequestDataStream);
    expect(streams.map((s) => s.reqStreamId)).toEqual([2, 6, 10, 11, 12]);
    expect(streams.every((s) => s.startStop === 1 && s.reqMessageRate === 5 && s.targetSystem === 1)).toBe(true);
  });

  it('falls back as well when old firmware never acknowledges', async () => {
    const { agent: a } = await run(() => null);
    expect(a.streamRates).toEqual({ method: 'data-stream', acks: { GLOBAL_POSITION_INT: 'timeout' } });
  });
});
