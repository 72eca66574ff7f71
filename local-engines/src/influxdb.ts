import { join } from 'node:path';

export interface InfluxConfOptions {
  /** The server's own directory: meta, data and wal below it. */
  dir: string;
  httpPort: number;
  /** The RPC (backup/restore) port, bound to loopback too. */
  rpcPort: number;
  /**
   * wal-fsync-delay; unset leaves InfluxDB's default. "0s": every write is fsynced before
   * InfluxDB answers 204 (the telemetry writer counts a point written on that answer).
   */
  walFsyncDelay?: string;
}

/**
 * influxdb.conf for Debian's InfluxDB 1.6.7 on loopback: no auth, no usage reporting, no
 * self-monitoring, no continuous queries, quiet logs, no body limit (the writer's batches).
 */
export function influxConf(o: InfluxConfOptions): string {
  return [
    'reporting-disabled = true',
    `bind-address = "127.0.0.1:${o.rpcPort}"`,
    '[meta]', `  dir = "${join(o.dir, 'meta')}"`, '  logging-enabled = false',
    '[data]', `  dir = "${join(o.dir, 'data')}"`, `  wal-dir = "${join(o.dir, 'wal')}"`,
    ...(o.walFsyncDelay === undefined ? [] : [`  wal-fsync-delay = "${o.walFsyncDelay}"`]),
    '  query-log-enabled = false',
    '[monitor]', '  store-enabled = false',
    '[http]', `  bind-address = "127.0.0.1:${o.httpPort}"`, '  log-enabled = false', '  max-body-size = 0',
    '[logging]', '  level = "warn"',
    '[continuous_queries]', '  enabled = false',
    '',
  ].join('\n');
}
