import { readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { common, minimal } from 'node-mavlink';
import { TlogReader, crcExtraOf, decodeFrame } from '@aerie/mavlink';
import { validateMessage, type DroneStatus } from '@aerie/contracts';
import { replayTlog } from '../src/index.js';

const path = (name: string): string => fileURLToPath(new URL(`../../../shared/data/${name}`, import.meta.url));

/**
 * The log's own GLOBAL_POSITION_INT values from the vehicle's system, straight from the decoder,
 * from its autopilot's first HEARTBEAT on (before it the agent does not know which system is the FC).
 */
function logPositions(name: string, sysid: number): { lat: number; lon: number; alt: number; relativeAlt: number }[] {
  const reader = new TlogReader(crcExtraOf);
  const out: { lat: number; lon: number; alt: number; relativeAlt: number }[] = [];
  let heard = false;
  for (const r of [...reader.push(readFileSync(path(name))), ...reader.end()]) {
    const m = decodeFrame(r.frame);
    if (m instanceof minimal.Heartbeat && r.frame.sysid === sysid && m.autopilot === minimal.MavAutopilot.ARDUPILOTMEGA) heard = true;
    if (heard && m instanceof common.GlobalPositionInt && r.frame.sysid === sysid) out.push({ lat: m.lat, lon: m.lon, alt: m.alt, relativeAlt: m.relativeAlt });
  }
  return out;
}

const CASES = [
  { name: 'arducopter-flight.tlog', modes: ['STABILIZE', 'LOITER', 'AUTO', 'LOITER', 'STABILIZE', 'LOITER', 'STABILIZE', 'RTL', 'STABILIZE'], corrupt: true },
  { name: 'arduplane-vtol-sitl.tlog', modes: ['QLOITER', 'CIRCLE', 'GUIDED', 'QLAND'], corrupt: false },
  { name: 'ardusub-v2.tlog', modes: ['MANUAL'], corrupt: true },
];

describe('replay of the real logs through the agent pipeline', () => {
  for (const c of CASES) {
    it(`${c.name}: DroneStatus positions equal the log's GLOBAL_POSITION_INT, modes follow the log`, async () => {
      const seen: DroneStatus['position'][] = [];
      const statuses: DroneStatus[] = [];
      let sysid = -1;
      const summary = await replayTlog(path(c.name), {
        onStatus: (s) => statuses.push(s),
        onApplied: (t, s, frame) => {
          if (t.kind === 'position') {
            seen.push(s.position);
            sysid = frame.sysid;
          }
        },
      });
      const expected = logPositions(c.name, sysid);
      expect(seen.length).toBe(expected.length);
      expect(seen.length).toBeGreaterThan(100);
      expect(seen.map((p) => p && { lat: Math.round(p.lat * 1e7), lon: Math.round(p.lon * 1e7), alt: Math.round(p.altMsl * 1000), relativeAlt: Math.round(p.altRel * 1000) }))
        .toEqual(expected);
      expect(summary.modes).toEqual(c.modes);
      expect(summary.positions).toBeGreaterThanOrEqual(expected.length);
      expect(summary.corrupt > 0).toBe(c.corrupt);
      expect(statuses.length).toBeGreaterThan(100);
      for (const s of statuses.filter((_, i) => i % 50 === 0)) expect(validateMessage('DroneStatus', s)).toEqual({ ok: true, value: s });
      expect(statuses.map((s) => s.seq)).toEqual(statuses.map((_, i) => i));
      expect(statuses.every((s) => s.autopilot === 'ardupilot')).toBe(true);
    });
  }

  it('aerie-agent replay prints the status stream and ends with the summary line', async () => {
    const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [main, 'replay', path('arduplane-vtol-sitl.tlog')], { maxBuffer: 64 << 20 });
    const lines = stdout.trim().split('\n');
    const last = JSON.parse(lines.at(-1)!) as Record<string, unknown>;
    expect(Object.keys(last)).toEqual(['packets', 'corrupt', 'positions', 'modes']);
    expect(last).toMatchObject({ corrupt: 0, modes: ['QLOITER', 'CIRCLE', 'GUIDED', 'QLAND'] });
    expect(last.packets).toBeGreaterThan(20_000);
    expect((JSON.parse(lines[0]!) as DroneStatus).droneId).toBe('replay');
  });
});
