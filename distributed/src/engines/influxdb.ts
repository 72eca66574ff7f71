import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { influxConf } from '@aerie/local-engines';
import { spawnChild, type OutputSinks, type Started } from '../child.js';
import { binary } from './system.js';

export interface InfluxOptions {
  /** The engine's own directory: config, meta, data, wal. */
  dir: string;
  httpPort: number;
  rpcPort: number;
  database: string;
}

export interface InfluxEngine {
  port: number;
  url: string;
  start(out: OutputSinks): Promise<Started>;
  probe(): Promise<boolean>;
  /** CREATE DATABASE (a no-op when it exists, InfluxQL's rule). */
  ensureDatabase(): Promise<void>;
}

/** Debian's InfluxDB 1.6.7 with a generated config; its data stays in DIR across restarts. */
export function prepareInflux(o: InfluxOptions): InfluxEngine {
  const bin = binary('influxd', 'influxdb', ['/usr/bin', '/usr/sbin', '/usr/local/bin']);
  mkdirSync(o.dir, { recursive: true });
  const conf = join(o.dir, 'influxdb.conf');
  // wal-fsync-delay 0: every write is fsynced before InfluxDB answers 204 (the telemetry writer
  // counts a point written on that answer).
  writeFileSync(conf, influxConf({ dir: o.dir, httpPort: o.httpPort, rpcPort: o.rpcPort, walFsyncDelay: '0s' }));
  const url = `http://127.0.0.1:${o.httpPort}`;
  return {
    port: o.httpPort,
    url,
    start: (out) => spawnChild({ command: bin, args: ['-config', conf] }, out),
    probe: async () => (await fetch(`${url}/ping`, { signal: AbortSignal.timeout(2000) })).status === 204,
    async ensureDatabase() {
      const res = await fetch(`${url}/query`, { method: 'POST', body: new URLSearchParams({ q: `CREATE DATABASE "${o.database}"` }) });
      if (!res.ok) throw new Error(`influx CREATE DATABASE ${o.database}: ${res.status} ${await res.text()}`);
    },
  };
}
