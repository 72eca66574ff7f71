import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, fleetOptions, parseConfig, type SimConfig } from '../src/config.js';
import { ManualClock } from '../src/domain/warp-clock.js';
import { gridHomes } from '../src/fleet.js';
import { SimError } from '../src/errors.js';
import { HOME } from './harness.js';

const config = (argv: string[]): Readonly<SimConfig> => {
  const c = parseConfig(argv);
  if (c === 'help') throw new Error('unexpected help');
  return c;
};

const rejects = (argv: string[], text: string): void => {
  expect(() => parseConfig(argv)).toThrow(SimError);
  expect(() => parseConfig(argv)).toThrow(expect.objectContaining({ code: 'SIM_ERR_CONFIG', message: expect.stringContaining(text) as string }) as Error);
};

describe('parseConfig', () => {
  it('defaults to five drones at the PX4 SITL home, ephemeral ports, GCS from 14550', () => {
    const c = config([]);
    expect(c).toEqual(DEFAULT_CONFIG);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('reads every flag', () => {
    const c = config(['--drones', '3', '--host', '0.0.0.0', '--port-base', '15000', '--gcs-host', '10.0.0.2', '--gcs-port-base', '0',
      '--lat=-33.9', '--lon', '151.2', '--alt', '10', '--speedup', '20', '--cruise', '8', '--stream-hz', '2', '--spacing', '12']);
    expect(c).toMatchObject({ drones: 3, host: '0.0.0.0', portBase: 15000, gcsHost: '10.0.0.2', gcsPortBase: 0, speedup: 20, cruiseSpeedMs: 8, streamHz: 2, spacingM: 12 });
    expect(c.home).toEqual({ lat: -33.9, lon: 151.2, altMsl: 10 });
    const f = fleetOptions(c, new ManualClock());
    expect(f.portFor?.(2)).toBe(15002);
    expect(f.peerFor?.(0)).toBeNull();
    expect(fleetOptions(config(['--drones', '2']), new ManualClock()).peerFor?.(1)).toEqual({ address: '127.0.0.1', port: 14551 });
  });

  it('reads --transport tcp and derives the signing key from --signing-passphrase as SHA-256 (Mission Planner, MAVProxy)', () => {
    const c = config(['--transport', 'tcp', '--signing-passphrase', 'hunter2']);
    expect(c.transport).toBe('tcp');
    expect(c.signingKey?.toString('hex')).toBe(createHash('sha256').update('hunter2').digest('hex'));
    expect(fleetOptions(c, new ManualClock())).toMatchObject({ transport: 'tcp', signing: { key: c.signingKey } });
    expect(config([])).toMatchObject({ transport: 'udp', signingKey: null });
    rejects(['--transport', 'serial'], '--transport');
    rejects(['--signing-passphrase', ''], '--signing-passphrase');
  });

  it('rejects bad flags with SIM_ERR_CONFIG and a message naming the flag', () => {
    rejects(['--drones', 'five'], '--drones');
    rejects(['--drones', '0'], '--drones');
    rejects(['--drones', '2.5'], '--drones');
    rejects(['--lat', '95'], '--lat');
    rejects(['--speedup', '-1'], '--speedup');
    rejects(['--cruise', ''], '--cruise');
    rejects(['--port-base', '65535', '--drones', '2'], '--port-base');
    rejects(['--frobnicate'], 'frobnicate');
    rejects(['stray'], 'stray');
  });

  it('answers --help', () => {
    expect(parseConfig(['--help'])).toBe('help');
  });
});

describe('gridHomes', () => {
  it('centres a square grid on home', () => {
    const homes = gridHomes(4, HOME, 10);
    const lat = homes.reduce((a, h) => a + h.lat, 0) / 4;
    const lon = homes.reduce((a, h) => a + h.lon, 0) / 4;
    expect(lat).toBeCloseTo(HOME.lat, 9);
    expect(lon).toBeCloseTo(HOME.lon, 9);
    expect(gridHomes(1, HOME, 10)[0]).toEqual(HOME);
  });
});

describe('aerie-sim CLI', () => {
  it('exits 2 with a clear message on an invalid flag', () => {
    const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
    const run = spawnSync(process.execPath, [main, '--drones', 'lots'], { encoding: 'utf8', timeout: 10_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--drones must be an integer');
    expect(run.stderr).toContain('SIM_ERR_CONFIG');
  });
});
