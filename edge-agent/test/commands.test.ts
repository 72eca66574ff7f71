import { afterEach, describe, expect, it } from 'vitest';
import { common } from 'node-mavlink';
import { encodeMessage, validateMessage, type DroneCommand } from '@aerie/contracts';
import { MemoryUplink, agentConfig, startEdgeAgent, type RunningAgent } from '../src/index.js';
import { canonicalJson, commandHmac } from '../src/domain/command-auth.js';
import { until } from '../../test-support/until.js';
import { startFakeFc, type FakeFc } from './fake-fc.js';

const KEY = 'a1'.repeat(32);
let agent: RunningAgent | null = null;
let fc: FakeFc | null = null;
let beat: NodeJS.Timeout | undefined;
afterEach(async () => {
  clearInterval(beat);
  await fc?.stop();
  await agent?.stop();
  agent = null;
  fc = null;
});

async function boot(answer: (c: common.CommandLong) => number | null, commandHmacKey: string | null = null): Promise<MemoryUplink> {
  const uplink = new MemoryUplink();
  agent = await startEdgeAgent(agentConfig({ droneId: 'drone-c', fc: { port: 0, ackTimeoutMs: 200, streamHz: 0 }, commandHmacKey }), { uplink });
  fc = await startFakeFc({ agentPort: agent.fcPort, answer });
  fc.heartbeat();
  beat = setInterval(() => fc?.heartbeat(), 200);
  await until(() => agent!.agent.status().link.fcConnected, 'the FC link');
  return uplink;
}

const cmd = (commandId: string, action: DroneCommand['action'], extra: Partial<DroneCommand> = {}): DroneCommand =>
  ({ v: 1, commandId, droneId: 'drone-c', ts: Date.now(), action, ...extra });

describe('commands', () => {
  it('pause and continue map to MAV_CMD_DO_PAUSE_CONTINUE 0/1 and report the ACK', async () => {
    const uplink = await boot(() => 0);
    uplink.deliver(encodeMessage(cmd('p1', { kind: 'pause' })));
    uplink.deliver(encodeMessage(cmd('c1', { kind: 'continue' })));
    await until(() => uplink.results.length === 2, 'two results');
    expect(uplink.results.map((r) => [r.commandId, r.outcome, r.mavResult])).toEqual([['p1', 'accepted', 'ACCEPTED'], ['c1', 'accepted', 'ACCEPTED']]);
    const sent = fc!.received.filter((m): m is common.CommandLong => m instanceof common.CommandLong && Number(m.command) === 193);
    expect(sent.map((m) => m._param1)).toEqual([0, 1]);
  });

  it('a refused pause comes back rejected with the MAV_RESULT name', async () => {
    const uplink = await boot(() => 4);
    uplink.deliver(encodeMessage(cmd('p2', { kind: 'pause' })));
    await until(() => uplink.results[0], 'the result');
    expect(uplink.results[0]).toMatchObject({ outcome: 'rejected', code: 'AGENT_ERR_FC_REJECTED', mavResult: 'FAILED' });
  });

  it('COMMAND_LONG is re-sent on a lost ACK with confirmation 0, 1, 2 (MAVLink command protocol); three silences end in timeout', async () => {
    let rtl = 0;
    const uplink = await boot((c) => (Number(c.command) !== 20 ? 0 : ++rtl < 3 ? null : 0));
    uplink.deliver(encodeMessage(cmd('r1', { kind: 'rtl' })));
    await until(() => uplink.results[0], 'the result');
    expect(uplink.results[0]).toMatchObject({ commandId: 'r1', outcome: 'accepted', mavResult: 'ACCEPTED' });
    const sent = fc!.received.filter((m): m is common.CommandLong => m instanceof common.CommandLong && Number(m.command) === 20);
    expect(sent.map((m) => m.confirmation)).toEqual([0, 1, 2]);

    rtl = -100; // silent from now on
    uplink.deliver(encodeMessage(cmd('r2', { kind: 'rtl' })));
    await until(() => uplink.results[1], 'the second result');
    expect(uplink.results[1]).toMatchObject({ commandId: 'r2', outcome: 'timeout', code: 'AGENT_ERR_FC_TIMEOUT' });
  });

  it('set_stream_rate asks SET_MESSAGE_INTERVAL at the new rate', async () => {
    const uplink = await boot(() => 0);
    uplink.deliver(encodeMessage(cmd('s1', { kind: 'set_stream_rate', hz: 10 })));
    await until(() => uplink.results[0], 'the result');
    expect(uplink.results[0]).toMatchObject({ outcome: 'accepted', mavResult: 'ACCEPTED' });
    const intervals = fc!.received.filter((m): m is common.CommandLong => m instanceof common.CommandLong && Number(m.command) === 511);
    expect(intervals.length).toBe(7);
    expect(intervals.every((m) => m._param2 === 100_000)).toBe(true);
  });

  it('with a command key: a valid HMAC is obeyed; missing, forged, or stale ones are refused', async () => {
    const uplink = await boot(() => 0, KEY);
    const signed = (c: DroneCommand): DroneCommand => ({ ...c, hmac: commandHmac(KEY, c) });
    const good = signed(cmd('h1', { kind: 'rtl' }));
    expect(validateMessage('DroneCommand', good).ok).toBe(true);
    uplink.deliver(encodeMessage(good));
    uplink.deliver(encodeMessage(cmd('h2', { kind: 'rtl' })));
    uplink.deliver(encodeMessage({ ...signed(cmd('h3', { kind: 'rtl' })), action: { kind: 'land' } }));
    uplink.deliver(encodeMessage(signed(cmd('h4', { kind: 'rtl' }, { ts: Date.now() - 3_600_000 }))));
    await until(() => uplink.results.length === 4, 'four results');
    const by = Object.fromEntries(uplink.results.map((r) => [r.commandId, [r.outcome, r.code, r.message]]));
    expect(by).toEqual({
      h1: ['accepted', 'AGENT_OK', 'return to launch accepted'],
      h2: ['rejected', 'AGENT_ERR_UNAUTHENTICATED', 'command HMAC missing'],
      h3: ['rejected', 'AGENT_ERR_UNAUTHENTICATED', 'command HMAC bad'],
      h4: ['rejected', 'AGENT_ERR_UNAUTHENTICATED', 'command HMAC stale'],
    });
    expect(fc!.received.filter((m) => m instanceof common.CommandLong).length).toBe(1);
  });

  it('canonical JSON sorts keys at every level, so the hub may serialise in any order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 0, y: 'x' }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"y":"x","z":0}]},"b":1}');
  });
});
