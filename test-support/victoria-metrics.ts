// Debian's VictoriaMetrics on a free loopback port in a temp dir (it accepts the InfluxDB v2 write
// API); fails clearly when the binary is missing.
export { startVictoriaMetrics, type RunningServer as RunningVictoriaMetrics } from '../telemetry/src/bench/servers.js';

/** Every sample of the metrics matching `selector`, after VictoriaMetrics flushed its buffers. */
export async function victoriaExport(url: string, selector: string): Promise<{ metric: Record<string, string>; values: number[]; timestamps: number[] }[]> {
  await fetch(`${url}/internal/force_flush`);
  const res = await fetch(`${url}/api/v1/export?${new URLSearchParams({ 'match[]': selector }).toString()}`);
  if (!res.ok) throw new Error(`victoria export ${res.status}: ${await res.text()}`);
  const text = await res.text();
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as { metric: Record<string, string>; values: number[]; timestamps: number[] });
}
