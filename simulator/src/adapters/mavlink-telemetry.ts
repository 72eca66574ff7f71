import { common, minimal, type MavLinkData } from 'node-mavlink';
import type { TelemetryStream } from '../ports.js';
import type { VehicleSnapshot } from '../domain/types.js';
import { GpsFixType, MavLandedState } from '../domain/mav-enums.js';

const S = common.MavSysStatusSensor;
const SENSORS =
  S.SENSOR_3D_GYRO | S.SENSOR_3D_ACCEL | S.SENSOR_3D_MAG | S.SENSOR_ABSOLUTE_PRESSURE | S.SENSOR_GPS |
  S.SENSOR_ANGULAR_RATE_CONTROL | S.SENSOR_ATTITUDE_STABILIZATION | S.SENSOR_YAW_POSITION | S.SENSOR_Z_ALTITUDE_CONTROL |
  S.SENSOR_XY_POSITION_CONTROL | S.SENSOR_MOTOR_OUTPUTS | S.SENSOR_BATTERY | S.AHRS | S.PREARM_CHECK;
const UINT16_MAX = 0xffff;

const degE7 = (deg: number): number => Math.round(deg * 1e7);
const mm = (m: number): number => Math.round(m * 1000);
const cdeg = (deg: number): number => Math.round(deg * 100) % 36000;
const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

/**
 * The MAVLink message for one telemetry stream, in the units common.xml gives each field. With
 * `reuse` (a message of the same stream from an earlier call) it is filled in place instead of
 * allocated: node-mavlink's constructors are slow enough to show in a thousand-vehicle profile.
 */
export function telemetryMessage(stream: TelemetryStream, s: VehicleSnapshot, reuse?: MavLinkData): MavLinkData {
  switch (stream) {
    case 'heartbeat': {
      const m = (reuse as minimal.Heartbeat | undefined) ?? new minimal.Heartbeat();
      m.type = minimal.MavType.QUADROTOR;
      m.autopilot = s.personality === 'ardupilot' ? minimal.MavAutopilot.ARDUPILOTMEGA : minimal.MavAutopilot.PX4;
      m.baseMode = s.baseMode;
      m.customMode = s.customMode;
      m.systemStatus = s.systemStatus;
      m.mavlinkVersion = 3;
      return m;
    }
    case 'home-position': {
      const m = (reuse as common.HomePosition | undefined) ?? new common.HomePosition();
      m.latitude = degE7(s.home.lat);
      m.longitude = degE7(s.home.lon);
      m.altitude = mm(s.home.altMsl);
      // [HOME_POSITION] q is the surface orientation; identity for flat ground.
      m.q = [1, 0, 0, 0];
      m.timeUsec = BigInt(s.timeBootMs) * 1000n;
      return m;
    }
    case 'global-position': {
      const m = (reuse as common.GlobalPositionInt | undefined) ?? new common.GlobalPositionInt();
      m.timeBootMs = s.timeBootMs;
      m.lat = degE7(s.position.lat);
      m.lon = degE7(s.position.lon);
      m.alt = mm(s.position.altMsl);
      m.relativeAlt = mm(s.position.relAltM);
      m.vx = Math.round(s.velocity.vn * 100);
      m.vy = Math.round(s.velocity.ve * 100);
      m.vz = Math.round(s.velocity.vd * 100);
      m.hdg = cdeg(s.headingDeg);
      return m;
    }
    case 'sys-status': {
      const m = (reuse as common.SysStatus | undefined) ?? new common.SysStatus();
      m.onboardControlSensorsPresent = SENSORS;
      m.onboardControlSensorsEnabled = SENSORS;
      m.onboardControlSensorsHealth = s.gps.fixType >= GpsFixType.FIX_3D ? SENSORS : SENSORS & ~(S.SENSOR_GPS | S.PREARM_CHECK);
      m.load = 250;
      m.voltageBattery = Math.round(s.battery.voltageV * 1000);
      // [SYS_STATUS] current_battery in 10 mA units.
      m.currentBattery = Math.round(s.battery.currentA * 100);
      m.batteryRemaining = Math.round(s.battery.remainingPct);
      return m;
    }
    case 'gps-raw': {
      const m = (reuse as common.GpsRawInt | undefined) ?? new common.GpsRawInt();
      m.timeUsec = BigInt(s.timeBootMs) * 1000n;
      m.fixType = s.gps.fixType;
      // The raw fix carries the receiver's noise; GLOBAL_POSITION_INT is the filtered estimate.
      m.lat = degE7(s.position.lat + (s.gps.noiseNorthM ?? 0) / 111_320);
      m.lon = degE7(s.position.lon + (s.gps.noiseEastM ?? 0) / (111_320 * Math.cos((s.position.lat * Math.PI) / 180)));
      m.alt = mm(s.position.altMsl);
      m.altEllipsoid = m.alt;
      // [GPS_RAW_INT] eph/epv are HDOP/VDOP scaled by 100.
      m.eph = Math.min(UINT16_MAX - 1, Math.round(s.gps.hdop * 100));
      m.epv = Math.min(UINT16_MAX - 1, Math.round(s.gps.hdop * 150));
      m.vel = Math.round(s.groundSpeedMs * 100);
      m.cog = s.groundSpeedMs > 0.5 ? cdeg(s.headingDeg) : UINT16_MAX;
      m.satellitesVisible = s.gps.satellites;
      m.hAcc = mm(s.gps.hdop * 0.6);
      m.vAcc = mm(s.gps.hdop * 1.0);
      m.velAcc = 100;
      return m;
    }
    case 'vfr-hud': {
      const m = (reuse as common.VfrHud | undefined) ?? new common.VfrHud();
      m.airspeed = Math.hypot(s.velocity.vn - s.wind.northMs, s.velocity.ve - s.wind.eastMs);
      m.groundspeed = s.groundSpeedMs;
      m.alt = s.position.altMsl;
      m.climb = -s.velocity.vd;
      m.heading = Math.round(s.headingDeg) % 360;
      m.throttle = !s.armed ? 0 : s.landedState === MavLandedState.ON_GROUND ? 10 : Math.round(clamp(50 + 8 * -s.velocity.vd + s.groundSpeedMs, 0, 100));
      return m;
    }
    case 'extended-sys-state': {
      const m = (reuse as common.ExtendedSysState | undefined) ?? new common.ExtendedSysState();
      m.vtolState = common.MavVtolState.UNDEFINED;
      m.landedState = s.landedState;
      return m;
    }
    case 'mission-current': {
      const m = (reuse as common.MissionCurrent | undefined) ?? new common.MissionCurrent();
      m.seq = s.mission.seq;
      // [MISSION_CURRENT] total is UINT16_MAX when no mission is present.
      m.total = s.mission.count > 0 ? s.mission.count : UINT16_MAX;
      m.missionState = s.mission.state;
      // [MISSION_CURRENT] mission_mode: 1 in mission mode, 2 suspended (not in mission mode).
      m.missionMode = s.mission.inMissionMode ? 1 : 2;
      return m;
    }
  }
}
