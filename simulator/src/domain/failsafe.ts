import type { FailsafeAction, VehicleSettings } from './params.js';

export type FailsafeName = 'motor-failure' | 'battery-critical' | 'gps-loss' | 'battery-low' | 'geofence' | 'link-loss';

/** What the failsafe checks read, once per physics step. */
export interface FailsafeInputs {
  armed: boolean;
  onGround: boolean;
  remainingPct: number;
  gpsFix: boolean;
  motorFailure: boolean;
  /** Ms since the last ground-station HEARTBEAT; null before the first one (no link to lose). */
  msSinceGcs: number | null;
  distanceFromHomeM: number;
  relAltM: number;
}

export interface FailsafeTrigger {
  name: FailsafeName;
  action: FailsafeAction;
  /** STATUSTEXT as ArduPilot words it. */
  text: string;
}

/**
 * The failsafe conditions present now, most severe first. Like ArduPilot, each acts once when it
 * begins (the vehicle remembers which are active), only while armed and in the air, and a
 * later, more severe one overrides (critical battery lands a vehicle already returning).
 */
export function failsafeConditions(i: FailsafeInputs, s: VehicleSettings): FailsafeTrigger[] {
  if (!i.armed || i.onGround) return [];
  const out: FailsafeTrigger[] = [];
  if (i.motorFailure) out.push({ name: 'motor-failure', action: 'land', text: 'Motor failure: landing' });
  if (s.batteryCriticalAction !== 'none' && i.remainingPct < s.batteryCriticalPct) {
    out.push({ name: 'battery-critical', action: s.batteryCriticalAction, text: 'Battery failsafe: critical' });
  }
  if (!i.gpsFix) out.push({ name: 'gps-loss', action: s.gpsLossAction, text: 'EKF Failsafe: GPS lost' });
  if (s.batteryLowAction !== 'none' && i.remainingPct < s.batteryLowPct) {
    out.push({ name: 'battery-low', action: s.batteryLowAction, text: 'Battery failsafe: low' });
  }
  const outside = (s.fenceRadiusM > 0 && i.distanceFromHomeM > s.fenceRadiusM) || (s.fenceAltMaxM > 0 && i.relAltM > s.fenceAltMaxM);
  if (outside && s.fenceAction !== 'none') out.push({ name: 'geofence', action: s.fenceAction, text: 'Fence breached' });
  if (s.linkLossTimeoutS > 0 && i.msSinceGcs !== null && i.msSinceGcs > s.linkLossTimeoutS * 1000 && s.linkLossAction !== 'none') {
    out.push({ name: 'link-loss', action: s.linkLossAction, text: 'GCS Failsafe' });
  }
  return out;
}

const RANK: Record<FailsafeAction, number> = { none: 0, hold: 1, rtl: 2, land: 3 };

/** Whether `next` should override `current` (land beats RTL beats hold). */
export function overrides(next: FailsafeAction, current: FailsafeAction | null): boolean {
  return current === null || RANK[next] > RANK[current];
}
