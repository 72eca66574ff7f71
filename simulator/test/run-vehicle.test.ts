import { describe, expect, it } from 'vitest';
import { MemoryVehicleLink } from '../src/adapters/memory-link.js';
import { runVehicle } from '../src/app.js';
import { ManualClock } from '../src/domain/warp-clock.js';
import { MavResult } from '../src/domain/mav-enums.js';
import { SimError } from '../src/errors.js';
import { GCS, HOME } from './harness.js';

function started(streamHz?: number) {
  const clock = new ManualClock(0);
  const link = new MemoryVehicleLink();
  const vehicle = runVehicle(link, { sysid: 3, home: HOME, clock, streamHz });
  const count = (stream: string): number => link.telemetry.filter((t) => t.stream === stream).length;
  return { clock, link, vehicle, count };
}

describe('runVehicle (wiring on the clock)', () => {
  it('streams HEARTBEAT at 1 Hz and the position/status set at streamHz', () => {
    const { clock, count } = started();
    clock.advance(10_000);
    // One heartbeat at start, then one a second.
    expect(count('heartbeat')).toBe(11);
    for (const s of ['global-position', 'sys-status', 'gps-raw', 'vfr-hud', 'extended-sys-state', 'mission-current']) expect(count(s)).toBe(40);
    const s10 = started(10);
    s10.clock.advance(1_000);
    expect(s10.count('global-position')).toBe(10);
  });

  it('integrates physics every 100 ms of clock time', () => {
    const { clock, link, vehicle } = started();
    link.inject({ kind: 'command-long', from: GCS, targetSystem: 3, command: 400, params: [1], confirmation: 0 });
    link.inject({ kind: 'command-long', from: GCS, targetSystem: 3, command: 22, params: [0, 0, 0, 0, 0, 0, 9], confirmation: 0 });
    expect(link.events.filter((e) => e.kind === 'command-ack').map((e) => e.kind === 'command-ack' && e.result)).toEqual([MavResult.ACCEPTED, MavResult.ACCEPTED]);
    clock.advance(1_000);
    // 3 m/s climb: 3 m after one second.
    expect(vehicle.snapshot().position.relAltM).toBeCloseTo(3, 5);
    clock.advance(10_000);
    expect(vehicle.snapshot().position.relAltM).toBeCloseTo(9, 5);
    expect(vehicle.snapshot().timeBootMs).toBe(11_000);
  });

  it('stop() clears every timer, including a mission upload in progress, and closes the link', async () => {
    const { clock, link, vehicle } = started();
    link.inject({ kind: 'mission-count', from: GCS, targetSystem: 3, count: 4, missionType: 0 });
    // One fleet-wide scheduler interval and the upload's item timeout.
    expect(clock.pendingTimers).toBe(2);
    await vehicle.stop();
    await vehicle.stop();
    expect(clock.pendingTimers).toBe(0);
    expect(link.closed).toBe(true);
  });

  it('rejects invalid options with SIM_ERR_OPTIONS', () => {
    const link = new MemoryVehicleLink();
    expect(() => runVehicle(link, { sysid: 0, home: HOME })).toThrow(expect.objectContaining({ code: 'SIM_ERR_OPTIONS' }) as SimError);
    expect(() => runVehicle(link, { sysid: 1, home: { ...HOME, lat: 91 } })).toThrow(SimError);
    expect(() => runVehicle(link, { sysid: 1, home: HOME, streamHz: 0 })).toThrow(SimError);
  });
});
