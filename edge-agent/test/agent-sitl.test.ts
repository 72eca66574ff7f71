import { afterEach, describe, expect, it } from 'vitest';
import { startSimVehicle, WarpClock, type SimVehicle } from '@aerie/simulator';
import { encodeMessage, validateMessage, type DroneCommand } from '@aerie/contracts';
import { MemoryUplink, agentConfig, startEdgeAgent, type RunningAgent } from '../src/index.js';
import { until } from '../../test-support/until.js';

const home = { lat: 47.3977, lon: 8.5456, altMsl: 488 };
let agent: RunningAgent | null = null;
let vehicle: SimVehicle | null = null;

afterEach(async () => {
  await vehicle?.stop();
  await agent?.stop();
  agent = null;
  vehicle = null;
});


async function boot(): Promise<{ uplink: MemoryUplink; clock: WarpClock }> {
  const clock = new WarpClock({ speedup: 20 });
  const uplink = new MemoryUplink();
  agent = await startEdgeAgent(agentConfig({ droneId: 'drone-007', fc: { port: 0 } }), { clock, uplink });
  vehicle = await startSimVehicle({ sysid: 7, home, clock, port: 0, peer: { address: '127.0.0.1', port: agent.fcPort } });
  await until(() => uplink.statuses.find((s) => s.position && s.gps.fix >= 3), 'a DroneStatus with a GPS fix');
  return { uplink, clock };
}

const command = (commandId: string, action: DroneCommand['action']): DroneCommand => ({ v: 1, commandId, droneId: 'drone-007', ts: 1, action });

describe('edge agent against a simulated PX4 over real UDP MAVLink', () => {
  it('publishes valid DroneStatus with a monotonic seq under one bootId', async () => {
    const { uplink } = await boot();
    await until(() => uplink.statuses.length >= 5, 'five statuses');
    const s = uplink.statuses.slice(0, 5);
    for (const x of s) expect(validateMessage('DroneStatus', x)).toEqual({ ok: true, value: x });
    expect(new Set(s.map((x) => x.bootId)).size).toBe(1);
    expect(s.map((x) => x.seq)).toEqual([0, 1, 2, 3, 4].map((i) => s[0]!.seq + i));
    expect(s.at(-1)).toMatchObject({ autopilot: 'px4', armed: false, landedState: 'ON_GROUND', link: { fcConnected: true } });
  });

  it('uploads and starts a mission, reports the ACK, answers a redelivery with the same result, and returns to launch', async () => {
    const { uplink } = await boot();
    const mission = command('cmd-1', {
      kind: 'mission',
      steps: [{ kind: 'takeoff', alt: 20 }, { kind: 'waypoint', lat: 47.3985, lon: 8.5460, alt: 20 }, { kind: 'land', lat: 47.3985, lon: 8.5460 }],
    });
    uplink.deliver(encodeMessage(mission));
    const result = await until(() => uplink.results.find((r) => r.commandId === 'cmd-1'), 'the mission result');
    expect(result).toMatchObject({ outcome: 'accepted', code: 'AGENT_OK', mavResult: 'ACCEPTED' });
    expect(validateMessage('CommandResult', result).ok).toBe(true);
    await until(() => uplink.statuses.at(-1)?.flightMode === 'MISSION' && uplink.statuses.at(-1)?.armed, 'armed in MISSION');
    await until(() => uplink.events.some((e) => e.kind === 'armed'), 'an armed event');

    uplink.deliver(encodeMessage(mission));
    await until(() => uplink.results.filter((r) => r.commandId === 'cmd-1').length === 2, 'the repeated result');
    expect(uplink.results.filter((r) => r.commandId === 'cmd-1')[1]).toEqual(result);

    await until(() => (uplink.statuses.at(-1)?.position?.altRel ?? 0) > 10, 'climbing');
    uplink.deliver(encodeMessage(command('cmd-2', { kind: 'rtl' })));
    expect(await until(() => uplink.results.find((r) => r.commandId === 'cmd-2'), 'the RTL result')).toMatchObject({ outcome: 'accepted' });
    await until(() => uplink.statuses.at(-1)?.flightMode === 'RETURN', 'RETURN mode');
    await until(() => {
      const s = uplink.statuses.at(-1);
      return s && !s.armed && s.landedState === 'ON_GROUND';
    }, 'landed and disarmed at home', 40_000);
  });

  it('rejects bad commands with stable codes and counts them', async () => {
    const { uplink } = await boot();
    uplink.deliver('{"commandId":"bad-1","action":{"kind":"fly-to-the-moon"}}');
    uplink.deliver('not json at all');
    uplink.deliver(encodeMessage({ ...command('bad-2', { kind: 'land' }), droneId: 'drone-999' }));
    await until(() => uplink.results.length === 2, 'two rejections');
    expect(uplink.results.map((r) => [r.commandId, r.outcome, r.code])).toEqual([
      ['bad-1', 'rejected', 'AGENT_ERR_BAD_COMMAND'],
      ['bad-2', 'rejected', 'AGENT_ERR_WRONG_DRONE'],
    ]);
    expect(agent!.agent.counters.commandsRejected).toEqual({ AGENT_ERR_BAD_COMMAND: 2, AGENT_ERR_WRONG_DRONE: 1 });
  });

  it('declares the link lost 3 s (virtual) after the last heartbeat', async () => {
    const { uplink } = await boot();
    await vehicle!.stop();
    vehicle = null;
    await until(() => uplink.events.find((e) => e.kind === 'link_lost'), 'link_lost');
    await until(() => uplink.statuses.at(-1)?.link.fcConnected === false, 'a status saying so');
    uplink.deliver(encodeMessage(command('cmd-3', { kind: 'land' })));
    expect(await until(() => uplink.results.find((r) => r.commandId === 'cmd-3'), 'result')).toMatchObject({ code: 'AGENT_ERR_NO_LINK' });
  });
});
