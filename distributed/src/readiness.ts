import { existsSync, readFileSync } from 'node:fs';

/**
 * A service's readiness: 200 from GET /readyz. A service built before /readyz answers 404 there;
 * for it an HTTP answer at all (the port open and serving) is the best signal there is.
 * Anything else (503 not_ready, no answer) is not ready.
 */
export async function httpReady(baseUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status === 200 || res.status === 404;
  } catch {
    return false;
  }
}

/**
 * An edge agent's readiness without a health port: its status file (rewritten every second)
 * says the MQTT uplink is connected and the flight controller's heartbeat is heard.
 */
export function agentStatusReady(statusFile: string): boolean {
  if (!existsSync(statusFile)) return false;
  try {
    const s = JSON.parse(readFileSync(statusFile, 'utf8')) as { uplinkConnected?: boolean; status?: { link?: { fcConnected?: boolean } } };
    return s.uplinkConnected === true && s.status?.link?.fcConnected === true;
  } catch {
    return false; // replaced by rename, so only a broken file lands here
  }
}

/**
 * A service's liveness: 200 from GET /livez within `timeoutMs` (it checks nothing outside the
 * process, so only a hung or dead process fails it). A blocked event loop still has its socket
 * accepted by the kernel: the timeout is what notices it.
 */
export async function httpLive(baseUrl: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const res = await fetch(`${baseUrl}/livez`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}
