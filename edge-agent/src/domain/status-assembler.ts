import type { DroneEvent, DroneEventKind, DroneStatus, FlightMode, LandedState } from '@aerie/contracts';
import { decodeFlightMode } from './flight-mode.js';
import {
  LANDED_STATE_NAMES, MAV_AUTOPILOT_ARDUPILOTMEGA, MAV_AUTOPILOT_GENERIC, MAV_AUTOPILOT_PX4,
  MAV_MODE_FLAG_SAFETY_ARMED, MAV_SEVERITY_WARNING, type FcTelemetry,
} from './telemetry.js';

export type EventDraft = Pick<DroneEvent, 'kind' | 'severity' | 'text'> & { data?: DroneEvent['data'] };

/** Which telemetry refreshes each DroneStatus.ages group (the fields `apply` writes for it). */
const AGE_SOURCES: readonly (readonly [keyof NonNullable<DroneStatus['ages']>, readonly FcTelemetry['kind'][]])[] = [
  ['position', ['position']],
  ['speed', ['position', 'vfrHud']],
  ['battery', ['sysStatus', 'battery']],
  ['gps', ['gps']],
  ['mode', ['heartbeat']],
  ['landedState', ['extSysState']],
  ['mission', ['missionCurrent']],
  ['health', ['sysStatus']],
];

const MAV_STATE_CRITICAL = 5;
const MAV_STATE_EMERGENCY = 6;

/**
 * Folds flight-controller telemetry into the latest DroneStatus. A message refreshes only the
 * fields it carries, so a partial update never erases what is known. Pure: time comes in.
 */
export class StatusAssembler {
  private autopilot: DroneStatus['autopilot'] = 'unknown';
  private position: DroneStatus['position'] = null;
  private groundSpeed = 0;
  private climbRate = 0;
  private heading = 0;
  private battery: DroneStatus['battery'] = { pct: null, voltage: 0, current: null };
  private gps: DroneStatus['gps'] = { fix: 0, satellites: 0, hdop: null };
  private armed = false;
  private flightMode: FlightMode = 'UNKNOWN';
  private flightModeRaw = 'unknown';
  private landedState: LandedState = 'UNDEFINED';
  private landedFromFc = false;
  private mission = { current: -1, total: 0 };
  private payload: NonNullable<DroneStatus['payload']> = 'unknown';
  private sensorsHealthy = true;
  private failsafe = false;
  private lastHeartbeatAt: number | null = null;
  private linkUp = false;

  constructor(private readonly droneId: string) {}

  private readonly updatedAt: Partial<Record<FcTelemetry['kind'], number>> = {};

  /**
   * How old each source of DroneStatus is (ms), null when never received. DroneStatus itself
   * carries only the heartbeat's age; the status file carries these, so an operator sees that a
   * position kept from 40 s ago is 40 s old.
   */
  ages(now: number): Partial<Record<FcTelemetry['kind'], number>> {
    const out: Partial<Record<FcTelemetry['kind'], number>> = {};
    for (const [k, at] of Object.entries(this.updatedAt) as [FcTelemetry['kind'], number][]) out[k] = Math.max(0, now - at);
    return out;
  }

  /** Applies one message; returns the events it caused. */
  apply(msg: FcTelemetry, now: number): EventDraft[] {
    this.updatedAt[msg.kind] = now;
    switch (msg.kind) {
      case 'heartbeat':
        return this.onHeartbeat(msg, now);
      case 'position':
        this.position = { lat: msg.lat, lon: msg.lon, altMsl: msg.altMsl, altRel: msg.altRel };
        if (msg.heading !== null) this.heading = msg.heading;
        this.groundSpeed = Math.hypot(msg.vx, msg.vy);
        this.climbRate = -msg.vz;
        return [];
      case 'vfrHud':
        this.groundSpeed = Math.max(0, msg.groundSpeed);
        this.climbRate = msg.climb;
        this.heading = ((msg.heading % 360) + 360) % 360;
        return [];
      case 'sysStatus':
        this.battery = { pct: msg.remainingPct, voltage: msg.voltage, current: msg.current };
        this.sensorsHealthy = msg.sensorsHealthy;
        return [];
      case 'battery':
        // BATTERY_STATUS refines SYS_STATUS: it never erases a value it does not carry.
        this.battery = {
          pct: msg.remainingPct ?? this.battery.pct,
          voltage: msg.voltage ?? this.battery.voltage,
          current: msg.current ?? this.battery.current,
        };
        return [];
      case 'gps':
        this.gps = { fix: msg.fix, satellites: msg.satellites, hdop: msg.hdop };
        return [];
      case 'extSysState':
        this.landedState = LANDED_STATE_NAMES[msg.landedState] ?? 'UNDEFINED';
        this.landedFromFc = true;
        return [];
      case 'missionCurrent':
        this.mission = { current: msg.seq, total: msg.total };
        return [];
      case 'missionItemReached':
        return [{ kind: 'mission_item_reached', severity: 6, text: `Mission item ${msg.seq} reached`, data: { seq: msg.seq } }];
      case 'statustext':
        this.payload = gripperState(msg.text) ?? this.payload;
        return msg.severity <= MAV_SEVERITY_WARNING ? [{ kind: 'statustext', severity: msg.severity, text: msg.text }] : [];
    }
  }

  private onHeartbeat(msg: Extract<FcTelemetry, { kind: 'heartbeat' }>, now: number): EventDraft[] {
    const events: EventDraft[] = [];
    this.lastHeartbeatAt = now;
    if (!this.linkUp) {
      this.linkUp = true;
      if (this.autopilot !== 'unknown') events.push({ kind: 'link_recovered', severity: 5, text: 'Flight controller heartbeat recovered' });
    }
    this.autopilot = msg.autopilot === MAV_AUTOPILOT_PX4 ? 'px4'
      : msg.autopilot === MAV_AUTOPILOT_ARDUPILOTMEGA ? 'ardupilot'
      : msg.autopilot === MAV_AUTOPILOT_GENERIC ? 'generic' : 'unknown';
    const armed = (msg.baseMode & MAV_MODE_FLAG_SAFETY_ARMED) !== 0;
    if (armed !== this.armed) events.push({ kind: armed ? 'armed' : 'disarmed', severity: 5, text: armed ? 'Armed' : 'Disarmed' });
    this.armed = armed;
    const mode = decodeFlightMode(msg.autopilot, msg.baseMode, msg.customMode, msg.vehicleType);
    if (mode.raw !== this.flightModeRaw && this.flightModeRaw !== 'unknown') {
      events.push({ kind: 'mode_changed', severity: 5, text: `Mode ${this.flightModeRaw} → ${mode.raw}`, data: { from: this.flightMode, to: mode.mode, raw: mode.raw, customMode: mode.customMode } });
    }
    this.flightMode = mode.mode;
    this.flightModeRaw = mode.raw;
    const failsafe = msg.systemStatus === MAV_STATE_CRITICAL || msg.systemStatus === MAV_STATE_EMERGENCY;
    if (failsafe !== this.failsafe) {
      events.push({ kind: failsafe ? 'failsafe_raised' : 'failsafe_cleared', severity: failsafe ? 2 : 5, text: failsafe ? 'Failsafe raised' : 'Failsafe cleared' });
    }
    this.failsafe = failsafe;
    return events;
  }

  /** Declares the link lost when the last heartbeat is older than `timeoutMs`; returns the event once. */
  checkLink(now: number, timeoutMs: number): EventDraft[] {
    if (!this.linkUp || this.lastHeartbeatAt === null || now - this.lastHeartbeatAt < timeoutMs) return [];
    this.linkUp = false;
    return [{ kind: 'link_lost', severity: 2, text: `No flight controller heartbeat for ${now - this.lastHeartbeatAt} ms` }];
  }

  /** In the air by the FC's landed state when it sends one, else by arming and altitude. */
  get inFlight(): boolean {
    const landed = this.landedFromFc ? this.landedState : this.inferLanded();
    return landed === 'IN_AIR' || landed === 'TAKEOFF' || landed === 'LANDING';
  }

  get hasHeartbeat(): boolean {
    return this.lastHeartbeatAt !== null;
  }

  snapshot(meta: { bootId: string; seq: number; now: number }): DroneStatus {
    return {
      v: 1,
      droneId: this.droneId,
      bootId: meta.bootId,
      seq: meta.seq,
      ts: meta.now,
      autopilot: this.autopilot,
      position: this.position ? { ...this.position } : null,
      groundSpeed: round(this.groundSpeed, 2),
      climbRate: round(this.climbRate, 2),
      heading: round(this.heading, 1) % 360,
      battery: { ...this.battery },
      gps: { ...this.gps },
      armed: this.armed,
      flightMode: this.flightMode,
      flightModeRaw: this.flightModeRaw,
      landedState: this.landedFromFc ? this.landedState : this.inferLanded(),
      mission: { ...this.mission },
      payload: this.payload,
      health: { sensorsHealthy: this.sensorsHealthy, failsafe: this.failsafe },
      link: {
        fcConnected: this.linkUp,
        fcHeartbeatAgeMs: this.lastHeartbeatAt === null ? null : Math.max(0, meta.now - this.lastHeartbeatAt),
      },
      ages: this.groupAges(meta.now),
    };
  }

  /** DroneStatus.ages: per field group, the age of the freshest source that refreshed it. */
  private groupAges(now: number): NonNullable<DroneStatus['ages']> {
    const out: NonNullable<DroneStatus['ages']> = {};
    for (const [group, kinds] of AGE_SOURCES) {
      let at = -Infinity;
      for (const k of kinds) at = Math.max(at, this.updatedAt[k] ?? -Infinity);
      if (at !== -Infinity) out[group] = Math.max(0, now - at);
    }
    return out;
  }

  /** ArduPilot does not stream EXTENDED_SYS_STATE unless asked: infer from arming and altitude. */
  private inferLanded(): LandedState {
    if (!this.armed) return this.position ? 'ON_GROUND' : 'UNDEFINED';
    return (this.position?.altRel ?? 0) > 1 ? 'IN_AIR' : 'ON_GROUND';
  }
}

export function eventFrom(draft: EventDraft, meta: { droneId: string; bootId: string; seq: number; now: number }): DroneEvent {
  const kind: DroneEventKind = draft.kind;
  return {
    v: 1, droneId: meta.droneId, bootId: meta.bootId, seq: meta.seq, ts: meta.now, kind,
    severity: draft.severity, text: draft.text.slice(0, 256), ...(draft.data ? { data: draft.data } : {}),
  };
}

/**
 * MAVLink has no gripper state message; ArduPilot's AP_Gripper announces each change as
 * STATUSTEXT (MAV_SEVERITY_INFO) "Gripper load released" / "Gripper load grabbed" (so does
 * the simulator). Other autopilots say nothing, and the payload stays 'unknown'.
 */
function gripperState(text: string): 'onboard' | 'released' | null {
  if (text.startsWith('Gripper load released')) return 'released';
  if (text.startsWith('Gripper load grabbed')) return 'onboard';
  return null;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
