import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { minimal } from 'node-mavlink';
import { systemClock } from '@aerie/contracts';
import { signingKeyFromPassphrase } from '@aerie/mavlink';
import { MavlinkFcLink, agentConfig, replayTlog, type AgentConfigInput } from '../src/index.js';
import { until } from '../../test-support/until.js';
import { startFakeFc, type FakeFc } from './fake-fc.js';

const key = signingKeyFromPassphrase('fleet-test-key');
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function pair(fcOpts: AgentConfigInput['fc'], fakeSigning: boolean): Promise<{ agent: MavlinkFcLink; fc: FakeFc; beats: () => number }> {
  const agent = await MavlinkFcLink.open(agentConfig({ droneId: 'd1', fc: { port: 0, streamHz: 0, ...fcOpts } }).fc, systemClock);
  cleanups.push(() => agent.close());
  let n = 0;
  agent.onTelemetry((t) => void (t.kind === 'heartbeat' && n++));
  const fc = await startFakeFc({ agentPort: agent.port, ...(fakeSigning ? { signing: { key, linkId: 7 } } : {}) });
  cleanups.push(() => fc.stop());
  return { agent, fc, beats: () => n };
}

describe('MAVLink 2 signing on the agent\'s FC link', () => {
  it('takes a signed FC, signs its own heartbeats, and refuses an unsigned or foreign-key FC', async () => {
    const { agent, fc, beats } = await pair({ signing: { key: key.toString('hex'), linkId: 2, unsigned: 'reject' } }, true);
    fc.heartbeat();
    await until(() => beats() === 1, 'the signed heartbeat');
    agent.sendHeartbeat();
    await until(() => fc.received.some((m) => m instanceof minimal.Heartbeat), 'our heartbeat at the FC');
    expect(agent.stats()).toMatchObject({ signed: 1, unsignedRejected: 0 });

    const intruder = await startFakeFc({ agentPort: agent.port });
    cleanups.push(() => intruder.stop());
    intruder.heartbeat();
    const forger = await startFakeFc({ agentPort: agent.port, signing: { key: signingKeyFromPassphrase('guess'), linkId: 7 } });
    cleanups.push(() => forger.stop());
    forger.heartbeat();
    await until(() => agent.stats().unsignedRejected === 1 && agent.stats().badSignature === 1, 'both refusals counted');
    expect(beats()).toBe(1);
  });

  it('with unsigned: "accept", an unsigned FC still talks (key roll-out)', async () => {
    const { fc, beats, agent } = await pair({ signing: { key: key.toString('hex'), unsigned: 'accept' } }, false);
    fc.heartbeat();
    await until(() => beats() === 1, 'the unsigned heartbeat');
    expect(agent.stats().unsignedAccepted).toBe(1);
  });
});

describe('MAVLink 1', () => {
  it('an FC that speaks only MAVLink 1 is understood (old ArduPilot over a SiK radio)', async () => {
    const agent = await MavlinkFcLink.open(agentConfig({ droneId: 'd1', fc: { port: 0, streamHz: 0 } }).fc, systemClock);
    cleanups.push(() => agent.close());
    let mode = '';
    agent.onTelemetry((t) => void (t.kind === 'heartbeat' && (mode = String(t.customMode))));
    const fc = await startFakeFc({ agentPort: agent.port, version: 1 });
    cleanups.push(() => fc.stop());
    fc.heartbeat(6);
    await until(() => mode === '6', 'the MAVLink 1 heartbeat');
  });
});

describe('raw-link recording', () => {
  it('writes rotating .tlog files that replay to the same modes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aerie-tlog-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const { fc, beats, agent } = await pair({ record: { dir, maxFileMb: 0.0001, maxFiles: 2 } }, false);
    const modes = [0, 5, 3, 6, 9, 6, 3, 5, 0, 2];
    for (const [i, m] of modes.entries()) {
      fc.heartbeat(m);
      await until(() => beats() === i + 1, `heartbeat ${i}`);
    }
    await agent.close();
    const files = readdirSync(dir).sort();
    expect(files.length).toBe(2);
    // Oldest files rotated away; the newest still hold the last modes in order.
    const seen: string[] = [];
    for (const f of files) seen.push(...(await replayTlog(join(dir, f))).modes);
    expect(seen.slice(-3)).toEqual(['LOITER', 'STABILIZE', 'ALT_HOLD']);
  });
});
