// Debian's InfluxDB 1.6.7 on a free loopback port in a temp dir; fails clearly when influxd is
// missing. The launcher lives in telemetry/src/bench/ because bench:telemetry starts it too.
export { startInfluxDB, type RunningServer as RunningInfluxDB } from '../telemetry/src/bench/servers.js';

/** InfluxQL over `/query`; throws on an HTTP error or a statement error. */
export async function influxQuery(url: string, db: string, q: string): Promise<InfluxSeries[]> {
  const res = await fetch(`${url}/query?${new URLSearchParams({ db, q, epoch: 'ms' }).toString()}`, { method: 'POST' });
  const body = (await res.json()) as { error?: string; results?: { error?: string; series?: InfluxSeries[] }[] };
  if (!res.ok || body.error) throw new Error(`influx query ${res.status}: ${body.error ?? ''} (${q})`);
  const first = body.results?.[0];
  if (first?.error) throw new Error(`influx query: ${first.error} (${q})`);
  return first?.series ?? [];
}

export interface InfluxSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}
