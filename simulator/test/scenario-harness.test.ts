import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { faultTimeline, parseScenario } from '../src/scenario.js';
import { startFleet, type Fleet } from '../src/harness.js';
import { ManualClock } from '../src/domain/warp-clock.js';
import { SimError } from '../src/errors.js';

const CITY = fileURLToPath(new URL('../scenarios/city.yaml', import.meta.url));
const MINIMAL = 'homes: [{ name: depot, lat: 47.3977, lon: 8.5456 }]\nfleet: [{ count: 3 }]\n';

const rejects = (text: string, message: string): void => {
  expect(() => parseScenario(text)).toThrow(expect.objectContaining({ code: 'SIM_ERR_SCENARIO', message: expect.stringContaining(message) as string }) as SimError);
};

describe('scenario files', () => {
  it('parses the shipped city scenario (YAML) and the same thing as JSON', () => {
    const sc = parseScenario(readFileSync(CITY, 'utf8'));
    expect(sc).toMatchObject({ seed: 42, personality: 'ardupilot', wind: { meanMs: 6, fromDeg: 250 } });
    expect(sc.fleet.reduce((n, g) => n + g.count, 0)).toBe(20);
    expect(sc.faults.map((f) => f.kind)).toEqual(['link-drop', 'gps-loss', 'battery-sag', 'motor-failure', 'corrupt-bytes', 'stuck']);
    expect(sc.deliveries[0]!.id).toBe('sim-42-1');
    expect(parseScenario(JSON.stringify({ homes: [{ name: 'h', lat: 1, lon: 2 }], fleet: [{ count: 1 }] })).fleet).toEqual([{ count: 1, airframe: 'quad', home: 'h' }]);
  });

  it('names the wrong field in every error', () => {
    rejects(`${MINIMAL}faults: [{ at: 5, drone: 1, kind: fire }]`, 'scenario.faults[0].kind: must be one of link-drop');
    rejects(`${MINIMAL}faults: [{ at: 5, drone: 9, kind: stuck }]`, 'scenario.faults[0].drone: must be a number in [1, 3]');
    rejects(`${MINIMAL}wind: { meanMs: -1 }`, 'scenario.wind.meanMs');
    rejects(`${MINIMAL}wnd: { meanMs: 3 }`, 'scenario.wnd: is not a known field');
    rejects('homes: [{ name: depot, lat: 95, lon: 8 }]\nfleet: [{ count: 1 }]', 'scenario.homes[0].lat');
    rejects(`${MINIMAL.replace('count: 3', 'count: 3, airframe: blimp')}`, 'scenario.fleet[0].airframe: must name an airframe');
    rejects('fleet: [{ count: 1 }]', 'scenario.homes: must list at least one home');
    rejects(`${MINIMAL}deliveries: [{ at: 1, pickup: { lat: 1 }, dropoff: { lat: 1, lon: 1 } }]`, 'scenario.deliveries[0].pickup.lon');
    rejects('homes: [', 'not valid YAML');
  });

  it('orders fault starts and ends in time; a battery sag has no end', () => {
    const t = faultTimeline([
      { at: 10, drone: 1, kind: 'link-drop', durationS: 20 },
      { at: 15, drone: 2, kind: 'battery-sag', pct: 30, durationS: 5 },
    ]);
    expect(t.map((e) => [e.atS, e.fault.kind, e.active])).toEqual([[10, 'link-drop', true], [15, 'battery-sag', true], [30, 'link-drop', false]]);
  });

  it('aerie-sim exits 2 naming the field of a bad scenario', () => {
    const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
    const bad = fileURLToPath(new URL('../scenarios/city.yaml', import.meta.url));
    const run = spawnSync(process.execPath, [main, '--scenario', `${bad}.missing`], { encoding: 'utf8', timeout: 10_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('SIM_ERR_SCENARIO');
  });
});

describe('startFleet (the vitest harness)', () => {
  it('flies, waits for a condition, injects faults and tears down cleanly', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const fleet: Fleet = await startFleet({ drones: 3, clock, personality: 'ardupilot' });
    try {
      const d = fleet.drone(3);
      expect(d.sysid).toBe(3);
      d.inject({ kind: 'command-long', command: 400, params: [1], confirmation: 0 });
      d.inject({ kind: 'command-long', command: 22, params: [0, 0, 0, 0, 0, 0, 15], confirmation: 0 });
      const up = d.waitFor((s) => s.position.relAltM > 14);
      clock.advance(10_000);
      await up;
      d.fault('motor-failure');
      const down = d.waitFor((s) => s.landed && !s.armed);
      clock.advance(60_000);
      expect((await down).failsafe).toBe('motor-failure');
      expect(fleet.faultsInjected).toBe(1);
      await expect(fleet.drone(1).waitFor((s) => s.armed, { timeoutMs: 50 })).rejects.toMatchObject({ code: 'SIM_ERR_TIMEOUT' });
      expect(() => fleet.drone(4)).toThrow(SimError);
    } finally {
      await fleet.stop();
    }
    expect(clock.pendingTimers).toBe(0);
  });

  it('applies a scenario schedule on simulated time, the same way for the same seed', async () => {
    const run = async (): Promise<unknown[]> => {
      const clock = new ManualClock(0);
      const sc = parseScenario(`${MINIMAL}seed: 9\nwind: { meanMs: 4, gustMs: 2 }\nfaults:\n  - { at: 5, drone: 2, kind: gps-loss, durationS: 3 }\n  - { at: 6, drone: 1, kind: battery-sag, pct: 25 }\ndeliveries: [{ at: 4, pickup: { lat: 47.4, lon: 8.55 }, dropoff: { lat: 47.41, lon: 8.55 } }]\n`);
      const log: unknown[] = [];
      const fleet = await startFleet({ clock, scenario: sc, onFault: (n, f) => log.push([clock.now(), n, f.kind, f.active]), onDelivery: (d) => log.push([clock.now(), d.id]) });
      try {
        clock.advance(10_000);
        log.push(fleet.drone(1).snapshot().battery.remainingPct, fleet.drone(3).snapshot().wind);
      } finally {
        await fleet.stop();
      }
      return log;
    };
    const a = await run();
    expect(a.slice(0, 4)).toEqual([[4000, 'sim-9-1'], [5000, 2, 'gps-loss', true], [6000, 1, 'battery-sag', true], [8000, 2, 'gps-loss', false]]);
    expect(a[4]).toBeCloseTo(75, 5);
    expect(await run()).toEqual(a);
  });
});

describe('live table', () => {
  it('counts drones by state and mode, failsafes, message rates and faults', async () => {
    const { renderTable, summarize } = await import('../src/live-table.js');
    const clock = new ManualClock(0);
    const fleet = await startFleet({ drones: 4, clock });
    try {
      fleet.drone(2).inject({ kind: 'command-long', command: 400, params: [1], confirmation: 0 });
      fleet.drone(4).fault('gps-loss');
      const a = summarize(fleet, 0);
      clock.advance(2000);
      const b = summarize(fleet, 0);
      expect(b.byState).toEqual({ 'disarmed, on ground': 3, 'armed, on ground': 1 });
      expect(b.byMode).toEqual({ 'AUTO.LOITER': 4 });
      const text = renderTable(b, a, 1, 50);
      expect(text).toContain('4 drones  sim time 2 s  (50× real time)');
      expect(text).toContain('faults     1 injected');
      expect(text).toMatch(/no peer yet \d+\/s/);
    } finally {
      await fleet.stop();
    }
  });
});
