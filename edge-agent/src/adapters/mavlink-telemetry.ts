import { common, minimal, type MavLinkData } from 'node-mavlink';
import type { MavFrame } from '@aerie/mavlink';
import type { FcTelemetry } from '../domain/telemetry.js';

const U16_UNKNOWN = 0xffff;

/**
 * HEARTBEAT.type values of components that are not a vehicle's autopilot (minimal.xml MAV_TYPE):
 * GCS, onboard controller, gimbal, ADS-B, camera, servo, ODID, and the like. Their heartbeats
 * share the vehicle's sysid on links such as ArduSub's (camera, gimbal, companion).
 */
const NOT_AN_AUTOPILOT = new Set([6, 18, 26, 27, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46]);

/**
 * Maps decoded MAVLink messages from one flight controller into the domain's FcTelemetry. The
 * first autopilot HEARTBEAT locks the target (sysid, compid); afterwards only that component's
 * heartbeats and its system's telemetry count.
 */
export class FcTelemetryMapper {
  target: { sysid: number; compid: number } | null = null;

  map(msg: MavLinkData, frame: MavFrame): FcTelemetry | null {
    if (msg instanceof minimal.Heartbeat) {
      if (msg.autopilot === minimal.MavAutopilot.INVALID || NOT_AN_AUTOPILOT.has(msg.type)) return null;
      if (this.target && (this.target.sysid !== frame.sysid || this.target.compid !== frame.compid)) return null;
      this.target = { sysid: frame.sysid, compid: frame.compid };
      return { kind: 'heartbeat', autopilot: msg.autopilot, vehicleType: msg.type, baseMode: msg.baseMode, customMode: msg.customMode, systemStatus: msg.systemStatus };
    }
    if (!this.target || frame.sysid !== this.target.sysid) return null;
    return mapTelemetry(msg);
  }
}

function mapTelemetry(msg: MavLinkData): FcTelemetry | null {
  if (msg instanceof common.GlobalPositionInt) {
    return {
      kind: 'position', lat: msg.lat / 1e7, lon: msg.lon / 1e7, altMsl: msg.alt / 1000, altRel: msg.relativeAlt / 1000,
      vx: msg.vx / 100, vy: msg.vy / 100, vz: msg.vz / 100, heading: msg.hdg === U16_UNKNOWN ? null : msg.hdg / 100,
    };
  }
  if (msg instanceof common.SysStatus) {
    const present = msg.onboardControlSensorsPresent & msg.onboardControlSensorsEnabled;
    return {
      kind: 'sysStatus',
      voltage: msg.voltageBattery === U16_UNKNOWN ? 0 : msg.voltageBattery / 1000,
      current: msg.currentBattery < 0 ? null : msg.currentBattery / 100,
      remainingPct: msg.batteryRemaining < 0 ? null : msg.batteryRemaining,
      sensorsHealthy: (present & ~msg.onboardControlSensorsHealth) === 0,
    };
  }
  if (msg instanceof common.BatteryStatus) {
    // Only battery 0 is the flight battery DroneStatus reports; cells at UINT16_MAX are absent.
    if (msg.id !== 0) return null;
    const cells = msg.voltages.filter((mv) => mv !== U16_UNKNOWN);
    return {
      kind: 'battery',
      voltage: cells.length > 0 ? cells.reduce((a, b) => a + b, 0) / 1000 : null,
      current: msg.currentBattery < 0 ? null : msg.currentBattery / 100,
      remainingPct: msg.batteryRemaining < 0 ? null : msg.batteryRemaining,
    };
  }
  if (msg instanceof common.GpsRawInt) {
    return { kind: 'gps', fix: msg.fixType, satellites: msg.satellitesVisible === 255 ? 0 : msg.satellitesVisible, hdop: msg.eph === U16_UNKNOWN ? null : msg.eph / 100 };
  }
  if (msg instanceof common.VfrHud) return { kind: 'vfrHud', groundSpeed: msg.groundspeed, climb: msg.climb, heading: msg.heading };
  if (msg instanceof common.ExtendedSysState) return { kind: 'extSysState', landedState: msg.landedState };
  if (msg instanceof common.MissionCurrent) return { kind: 'missionCurrent', seq: msg.seq, total: msg.total === U16_UNKNOWN ? 0 : msg.total };
  if (msg instanceof common.MissionItemReached) return { kind: 'missionItemReached', seq: msg.seq };
  if (msg instanceof common.StatusText) return { kind: 'statustext', severity: msg.severity, text: msg.text.replace(/\0+$/, '') };
  return null;
}
