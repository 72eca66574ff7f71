import { MAV_AUTOPILOT_INVALID, type MavFrame, type MavMessage } from '@aerie/mavlink/core';
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

  map(msg: MavMessage, frame: MavFrame): FcTelemetry | null {
    if (msg.name === 'HEARTBEAT') {
      const hb = msg.fields;
      if (hb.autopilot === MAV_AUTOPILOT_INVALID || NOT_AN_AUTOPILOT.has(hb.type)) return null;
      if (this.target && (this.target.sysid !== frame.sysid || this.target.compid !== frame.compid)) return null;
      this.target = { sysid: frame.sysid, compid: frame.compid };
      return { kind: 'heartbeat', autopilot: hb.autopilot, vehicleType: hb.type, baseMode: hb.baseMode, customMode: hb.customMode, systemStatus: hb.systemStatus };
    }
    if (!this.target || frame.sysid !== this.target.sysid) return null;
    return mapTelemetry(msg);
  }
}

function mapTelemetry(msg: MavMessage): FcTelemetry | null {
  switch (msg.name) {
    case 'GLOBAL_POSITION_INT': {
      const m = msg.fields;
      return {
        kind: 'position', lat: m.lat / 1e7, lon: m.lon / 1e7, altMsl: m.alt / 1000, altRel: m.relativeAlt / 1000,
        vx: m.vx / 100, vy: m.vy / 100, vz: m.vz / 100, heading: m.hdg === U16_UNKNOWN ? null : m.hdg / 100,
      };
    }
    case 'SYS_STATUS': {
      const m = msg.fields;
      const present = m.onboardControlSensorsPresent & m.onboardControlSensorsEnabled;
      return {
        kind: 'sysStatus',
        voltage: m.voltageBattery === U16_UNKNOWN ? 0 : m.voltageBattery / 1000,
        current: m.currentBattery < 0 ? null : m.currentBattery / 100,
        remainingPct: m.batteryRemaining < 0 ? null : m.batteryRemaining,
        sensorsHealthy: (present & ~m.onboardControlSensorsHealth) === 0,
      };
    }
    case 'BATTERY_STATUS': {
      const m = msg.fields;
      // Only battery 0 is the flight battery DroneStatus reports; cells at UINT16_MAX are absent.
      if (m.id !== 0) return null;
      const cells = m.voltages.filter((mv) => mv !== U16_UNKNOWN);
      return {
        kind: 'battery',
        voltage: cells.length > 0 ? cells.reduce((a, b) => a + b, 0) / 1000 : null,
        current: m.currentBattery < 0 ? null : m.currentBattery / 100,
        remainingPct: m.batteryRemaining < 0 ? null : m.batteryRemaining,
      };
    }
    case 'GPS_RAW_INT': {
      const m = msg.fields;
      return { kind: 'gps', fix: m.fixType, satellites: m.satellitesVisible === 255 ? 0 : m.satellitesVisible, hdop: m.eph === U16_UNKNOWN ? null : m.eph / 100 };
    }
    case 'VFR_HUD':
      return { kind: 'vfrHud', groundSpeed: msg.fields.groundspeed, climb: msg.fields.climb, heading: msg.fields.heading };
    case 'EXTENDED_SYS_STATE':
      return { kind: 'extSysState', landedState: msg.fields.landedState };
    case 'MISSION_CURRENT':
      return { kind: 'missionCurrent', seq: msg.fields.seq, total: msg.fields.total === U16_UNKNOWN ? 0 : msg.fields.total };
    case 'MISSION_ITEM_REACHED':
      return { kind: 'missionItemReached', seq: msg.fields.seq };
    case 'STATUSTEXT':
      return { kind: 'statustext', severity: msg.fields.severity, text: msg.fields.text };
    default:
      return null;
  }
}
