import type { Fleet } from './harness.js';

/** What the table shows, gathered from the fleet once a refresh. */
export interface FleetSummary {
  simS: number;
  drones: number;
  byState: Record<string, number>;
  byMode: Record<string, number>;
  failsafes: Record<string, number>;
  sent: number;
  /** Sends with no ground station to send to yet (a vehicle without a fixed peer nobody has talked to). */
  dropped: number;
  received: number;
  badFrames: number;
  faultsInjected: number;
}

const LANDED = ['?', 'on ground', 'in air', 'taking off', 'landing'];

export function summarize(fleet: Fleet, startMs: number): FleetSummary {
  const s: FleetSummary = { simS: (fleet.clock.now() - startMs) / 1000, drones: fleet.size, byState: {}, byMode: {}, failsafes: {}, sent: 0, dropped: 0, received: 0, badFrames: 0, faultsInjected: fleet.faultsInjected };
  const bump = (r: Record<string, number>, k: string): void => {
    r[k] = (r[k] ?? 0) + 1;
  };
  for (const d of fleet.drones) {
    const snap = d.vehicle.snapshot();
    bump(s.byState, `${snap.armed ? 'armed' : 'disarmed'}, ${LANDED[snap.landedState] ?? '?'}`);
    bump(s.byMode, snap.modeName);
    if (snap.failsafe) bump(s.failsafes, snap.failsafe);
    const link = d.vehicle.stats().link;
    s.sent += link.sent;
    s.dropped += link.sendDropped;
    s.received += link.received;
    s.badFrames += link.badFrames;
  }
  return s;
}

const row = (r: Record<string, number>): string =>
  Object.entries(r).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}: ${n}`).join('  ') || '—';

/** The table as text; rates from the difference to the previous summary over `dtS` real seconds. */
export function renderTable(now: FleetSummary, prev: FleetSummary | null, dtS: number, speedup: number): string {
  const rate = (a: number, b: number | undefined): string => (b === undefined || dtS <= 0 ? '—' : Math.round((a - b) / dtS).toLocaleString('en'));
  return [
    `aerie-sim  ${now.drones} drones  sim time ${now.simS.toFixed(0)} s  (${speedup}× real time)`,
    `  state      ${row(now.byState)}`,
    `  mode       ${row(now.byMode)}`,
    `  failsafes  ${row(now.failsafes)}`,
    `  messages   sent ${rate(now.sent, prev?.sent)}/s  no peer yet ${rate(now.dropped, prev?.dropped)}/s  received ${rate(now.received, prev?.received)}/s  bad frames ${now.badFrames}`,
    `  faults     ${now.faultsInjected} injected`,
  ].join('\n');
}
