import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { influxQuery, startInfluxDB, type RunningInfluxDB } from '../../../test-support/influxdb.js';
import { startMosquitto, type RunningMosquitto } from '../../../test-support/mosquitto.js';

export interface TelemetryEngines {
  broker: RunningMosquitto;
  influx: RunningInfluxDB;
  /** the telemetry child's data dir */
  dir: string;
  /** telemetry children started by the file, SIGKILLed after it if still running */
  children: ChildProcess[];
}

/**
 * The engines a file running aerie-telemetry as a child process needs: Debian's Mosquitto (users
 * `telemetry`/`tel-pw` and `fleet`/`fleet-pw`, both services), InfluxDB 1.6.7 with database
 * `aerie`, and a temporary data dir — started before the file's tests, stopped after them.
 */
export function useTelemetryEngines(dirPrefix: string): TelemetryEngines {
  const e = { children: [] as ChildProcess[] } as TelemetryEngines;
  beforeAll(async () => {
    [e.broker, e.influx] = await Promise.all([
      startMosquitto([{ username: 'telemetry', password: 'tel-pw', role: 'service' }, { username: 'fleet', password: 'fleet-pw', role: 'service' }]),
      startInfluxDB(),
    ]);
    await influxQuery(e.influx.url, '', 'CREATE DATABASE aerie');
    e.dir = mkdtempSync(join(tmpdir(), dirPrefix));
  });
  afterAll(async () => {
    for (const c of e.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await e.broker?.stop();
    await e.influx?.destroy();
    if (e.dir) rmSync(e.dir, { recursive: true, force: true });
  });
  return e;
}
