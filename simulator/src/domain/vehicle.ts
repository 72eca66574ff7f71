import type { Clock } from '@aerie/contracts';
import { executeCommand, DEFAULT_TAKEOFF_ALT_M, type CommandPort } from './commands.js';
import { guide, holdAfter, holdHere, land, returnToLaunch, takeoff, type Maneuver } from './maneuver.js';
import { MavCmd, MavLandedState, MavSeverity, MavState, MissionState, type MavLandedStateValue, type MavSeverityValue } from './mav-enums.js';
import { MissionRunner } from './mission-runner.js';
import { MissionTransfer, type MissionTransferStats } from './mission-transfer.js';
import {
  DEFAULT_BATTERY, DEFAULT_PHYSICS, batteryReadout, drainWh, gpsReadout, groundSpeedMs, powerDrawW, restingAt, step,
  type BatteryParams, type FlightTarget, type Kinematics, type PhysicsParams,
} from './physics.js';
import { PX4_MODES, sameMode, type Px4Mode } from './px4-mode.js';
import type { HomePosition, MissionItem, TelemetryStream, VehicleFaults, VehicleInput, VehicleOutput, VehicleSnapshot } from './types.js';
import { personalityOf, type Personality, type PersonalityName } from './personality.js';
import { ParamStore, defaultParams, settingsFrom, type FailsafeAction, type VehicleSettings } from './params.js';
import { StreamRates, streamOfMsgid } from './streams.js';
import { failsafeConditions, overrides, type FailsafeName } from './failsafe.js';
import { Rng } from './random.js';
import { NO_WIND, WindField, type WindParams } from './wind.js';
import { horizontalDistanceM } from './geo.js';
import { MavResult, type MavResultValue } from './mav-enums.js';
import type { Wind } from './physics.js';

export interface VehicleOptions {
  sysid: number;
  home: HomePosition;
  /** Drives the mission-transfer timeouts and time since boot. */
  clock: Clock;
  emit: (out: VehicleOutput) => void;
  physics?: Partial<PhysicsParams>;
  battery?: Partial<BatteryParams>;
  /** PX4's RTL_RETURN_ALT: the lowest altitude RTL flies home at, m above home. */
  rtlAltM?: number;
  missionItemTimeoutMs?: number;
  /** 'px4' (default) or 'ardupilot': heartbeat, mode numbers, parameter names. */
  personality?: PersonalityName;
  /** Seeds gusts and GPS noise; the same seed flies the same way. */
  seed?: number;
  wind?: Partial<WindParams>;
  /** Payload on the gripper at boot, kg (0: none). */
  payloadKg?: number;
  /** Parameter values to start with, by this personality's names. */
  params?: Readonly<Record<string, number>>;
  /** Default period of each stream, ms (SET_MESSAGE_INTERVAL 0 restores it); 0 is off. */
  streamPeriodsMs?: Readonly<Partial<Record<TelemetryStream, number>>>;
  /** GPS quality with a fix: satellites, HDOP, and the σ of the position noise in GPS_RAW_INT, m. */
  gps?: { satellites?: number; hdop?: number; noiseM?: number };
}

/** The streams and rates a vehicle sends before anyone asks (HEARTBEAT 1 Hz, the rest 4 Hz). */
export const DEFAULT_STREAM_PERIODS_MS: Readonly<Record<TelemetryStream, number>> = Object.freeze({
  'heartbeat': 1000, 'home-position': 1000, 'global-position': 250, 'sys-status': 250, 'gps-raw': 250,
  'vfr-hud': 250, 'extended-sys-state': 250, 'mission-current': 250,
});

// PX4 BAT_LOW_THR and BAT_CRIT_THR defaults, in percent.
const BATTERY_LOW_PCT = 15;
const BATTERY_CRITICAL_PCT = 7;
const PAUSABLE = [PX4_MODES.AUTO_MISSION, PX4_MODES.AUTO_RTL, PX4_MODES.AUTO_LAND, PX4_MODES.AUTO_TAKEOFF];

/**
 * A PX4-like multicopter flight controller without I/O: MAVLink-shaped inputs in, events out
 * through `emit`, physics advanced by `step(dt)`, telemetry read with `snapshot()`.
 */
export class Vehicle implements CommandPort {
  readonly sysid: number;
  private readonly home: HomePosition;
  private readonly physics: PhysicsParams;
  private readonly batteryParams: BatteryParams;
  private rtlAltM: number;
  private readonly bootMs: number;
  private readonly transfer: MissionTransfer;
  private readonly mission = new MissionRunner();
  private kin: Kinematics;
  private energyWh: number;
  private powerW = 0;
  private isArmed = false;
  private mode: Px4Mode = PX4_MODES.AUTO_LOITER;
  private maneuver: Maneuver | null = null;
  private takeoffAltM = DEFAULT_TAKEOFF_ALT_M;
  private pausedMode: Px4Mode | null = null;
  private landedState: MavLandedStateValue = MavLandedState.ON_GROUND;
  private climbingFromGround = false;
  private landing = false;
  private simS = 0;
  private faults: VehicleFaults = { gpsNoFix: false };
  private batteryAlarm = 0;
  readonly personality: Personality;
  readonly params: ParamStore;
  readonly streams: StreamRates;
  private settings: VehicleSettings;
  private readonly rng: Rng;
  private readonly windField: WindField;
  private wind: Wind = { northMs: 0, eastMs: 0 };
  private payloadKg: number;
  private readonly payloadMassKg: number;
  private readonly gpsNoiseM: number;
  private readonly gpsQuality: { fixType: number; satellites: number; hdop: number };
  private lastGcsMs: number | null = null;
  private readonly activeFailsafes = new Set<FailsafeName>();
  private failsafeAction: FailsafeAction | null = null;
  private failsafeName: FailsafeName | null = null;
  private distanceM = 0;

  constructor(private readonly opts: VehicleOptions) {
    this.sysid = opts.sysid;
    this.home = { ...opts.home };
    this.physics = { ...DEFAULT_PHYSICS, ...opts.physics };
    this.batteryParams = { ...DEFAULT_BATTERY, ...opts.battery };
    this.personality = personalityOf(opts.personality ?? 'px4');
    this.params = new ParamStore(defaultParams(this.personality.name, { rtlAltM: opts.rtlAltM ?? 30, cruiseSpeedMs: this.physics.cruiseSpeedMs }, opts.sysid));
    for (const [id, value] of Object.entries(opts.params ?? {})) this.params.set(id, value);
    this.settings = settingsFrom(this.personality.name, this.params);
    this.applySettings();
    this.streams = new StreamRates({ ...DEFAULT_STREAM_PERIODS_MS, ...opts.streamPeriodsMs }, opts.clock.now());
    this.rng = new Rng(opts.seed ?? opts.sysid);
    this.windField = new WindField({ ...NO_WIND, ...opts.wind }, this.rng);
    this.payloadKg = opts.payloadKg ?? 0;
    this.payloadMassKg = this.payloadKg > 0 ? this.payloadKg : 0.5;
    this.gpsNoiseM = opts.gps?.noiseM ?? 0;
    this.gpsQuality = { fixType: 3, satellites: opts.gps?.satellites ?? 14, hdop: opts.gps?.hdop ?? 0.8 };
    this.rtlAltM = this.settings.rtlAltM;
    this.bootMs = opts.clock.now();
    this.kin = restingAt(this.home);
    this.energyWh = this.batteryParams.capacityWh;
    this.transfer = new MissionTransfer({
      clock: opts.clock,
      emit: opts.emit,
      onPlan: (items) => this.onPlan(items),
      plan: () => this.mission.plan,
      itemTimeoutMs: opts.missionItemTimeoutMs,
    });
  }

  get armed(): boolean {
    return this.isArmed;
  }

  get onGround(): boolean {
    return this.kin.onGround;
  }

  get gpsFix3d(): boolean {
    return !this.faults.gpsNoFix;
  }

  get motorsHealthy(): boolean {
    return this.faults.motorFailure !== true;
  }

  /** A failsafe that forbids leaving its mode (a failed motor can only land). */
  get modeLocked(): boolean {
    return this.faults.motorFailure === true && !this.kin.onGround;
  }

  get hasPlan(): boolean {
    return this.mission.count > 0;
  }

  get missionRunning(): boolean {
    return this.inMode(PX4_MODES.AUTO_MISSION) && this.mission.state === MissionState.ACTIVE;
  }

  get transferStats(): Readonly<MissionTransferStats> {
    return this.transfer.stats;
  }

  handle(input: VehicleInput): void {
    if (input.targetSystem !== 0 && input.targetSystem !== this.sysid) return;
    switch (input.kind) {
      case 'command-long': {
        const result = executeCommand(this, input.command, input.params, input.confirmation);
        return this.opts.emit({ kind: 'command-ack', to: input.from, command: input.command, result });
      }
      case 'command-int': {
        // [COMMAND_INT] is answered like COMMAND_LONG; x/y stay integers (degE7) as the commands here read no position.
        const result = executeCommand(this, input.command, input.params, 0);
        return this.opts.emit({ kind: 'command-ack', to: input.from, command: input.command, result });
      }
      case 'set-mode': {
        // [SET_MODE] (deprecated, still what MAVProxy and ArduPilot GCSs send): no ACK is defined.
        executeCommand(this, 176, [input.baseMode, input.customMode & 0xffff, 0], 0);
        return;
      }
      case 'param-request-list':
        for (let i = 0; i < this.params.count; i++) this.emitParam(i);
        return;
      case 'param-request-read': {
        const found = this.params.find(input.id, input.index);
        if (found) this.emitParam(found.index);
        return;
      }
      case 'param-set': {
        // [Parameter protocol] PARAM_SET is answered with PARAM_VALUE carrying the value now in force.
        const found = this.params.set(input.id, input.value);
        if (!found) return;
        this.settings = settingsFrom(this.personality.name, this.params);
        this.applySettings();
        this.emitParam(found.index);
        return;
      }
      case 'request-data-stream':
        // PX4 does not implement REQUEST_DATA_STREAM; ArduPilot sets the group's rate.
        if (this.personality.name === 'ardupilot') this.streams.requestDataStream(input.streamId, input.rateHz, input.start, this.opts.clock.now());
        return;
      case 'mission-set-current':
        this.setMissionCurrent(input.seq);
        return;
      case 'gcs-heartbeat':
        this.lastGcsMs = this.opts.clock.now();
        if (this.activeFailsafes.delete('link-loss')) this.notify(MavSeverity.INFO, 'GCS Failsafe Cleared');
        return;
      case 'mission-count':
        return this.transfer.onCount(input.from, input.count, input.missionType);
      case 'mission-item':
        return this.transfer.onItem(input.from, input.item, input.missionType);
      case 'mission-clear-all':
        return this.transfer.onClearAll(input.from, input.missionType);
      case 'mission-request-list':
        return this.transfer.onRequestList(input.from, input.missionType);
      case 'mission-request':
        return this.transfer.onRequest(input.from, input.seq, input.missionType);
    }
  }

  /** Advances the simulation by `dtS` seconds. */
  step(dtS: number): void {
    this.simS += dtS;
    const before = this.kin;
    this.wind = this.windField.step(dtS);
    const target = this.flightTarget();
    this.kin = this.faults.stuck ? { ...before, northMs: 0, eastMs: 0, upMs: 0 } : step(before, target, dtS, this.physics, this.wind);
    this.distanceM += horizontalDistanceM(before, this.kin);
    this.powerW = powerDrawW(this.kin, this.isArmed, this.batteryParams, this.payloadKg, this.wind);
    this.energyWh = drainWh(this.energyWh, this.powerW, dtS);
    this.trackLandedState(before);
    this.checkBattery();
    this.checkFailsafes();
  }

  setFaults(faults: Partial<VehicleFaults>): void {
    const hadFix = this.gpsFix3d;
    const hadMotors = this.motorsHealthy;
    this.faults = { ...this.faults, ...faults };
    if (hadFix && !this.gpsFix3d) this.notify(MavSeverity.WARNING, 'GPS fix lost');
    if (!hadFix && this.gpsFix3d) this.notify(MavSeverity.INFO, 'GPS fix regained');
    if (hadMotors && !this.motorsHealthy) this.notify(MavSeverity.CRITICAL, 'Motor failure');
  }

  /** A battery sag: `pct` percentage points of charge gone at once (a cell failing, cold). */
  sagBattery(pct: number): void {
    this.energyWh = Math.max(0, this.energyWh - (this.batteryParams.capacityWh * Math.max(0, pct)) / 100);
  }

  /** [MAV_CMD_DO_GRIPPER] param2: 0 release, 1 grab. */
  gripper(action: number): MavResultValue {
    if (action === 0) {
      if (this.payloadKg === 0) return MavResult.ACCEPTED;
      this.payloadKg = 0;
      this.notify(MavSeverity.INFO, 'Gripper load released');
      return MavResult.ACCEPTED;
    }
    if (action === 1) {
      this.payloadKg = this.payloadMassKg;
      this.notify(MavSeverity.INFO, 'Gripper load grabbed');
      return MavResult.ACCEPTED;
    }
    return MavResult.DENIED;
  }

  setMessageInterval(msgid: number, intervalUs: number): MavResultValue {
    return this.streams.setMessageInterval(msgid, intervalUs, this.opts.clock.now());
  }

  /** [MAV_CMD_REQUEST_MESSAGE]: the message now, for the streamed ones. */
  requestMessage(msgid: number): MavResultValue {
    const stream = streamOfMsgid(msgid);
    if (!stream) return MavResult.UNSUPPORTED;
    this.opts.emit({ kind: 'stream-now', stream, snapshot: this.snapshot() });
    return MavResult.ACCEPTED;
  }

  /** MISSION_SET_CURRENT / MAV_CMD_DO_SET_MISSION_CURRENT; answered with MISSION_CURRENT. */
  setMissionCurrent(seq: number): MavResultValue {
    if (!this.mission.setCurrent(seq)) {
      this.notify(MavSeverity.WARNING, `Mission set current failed: ${seq} out of range`);
      return MavResult.DENIED;
    }
    if (this.inMode(PX4_MODES.AUTO_MISSION)) this.maneuver = null;
    this.opts.emit({ kind: 'stream-now', stream: 'mission-current', snapshot: this.snapshot() });
    return MavResult.ACCEPTED;
  }

  snapshot(): VehicleSnapshot {
    const battery = batteryReadout(this.energyWh, this.powerW, this.batteryParams);
    const critical = this.isArmed && battery.remainingPct < BATTERY_CRITICAL_PCT;
    const k = this.kin;
    return {
      sysid: this.sysid,
      timeBootMs: Math.max(0, Math.round(this.opts.clock.now() - this.bootMs)),
      armed: this.isArmed,
      mode: { ...this.mode },
      modeName: this.personality.modeName(this.mode),
      customMode: this.personality.customMode(this.mode),
      baseMode: this.personality.baseMode(this.mode, this.isArmed),
      systemStatus: critical ? MavState.CRITICAL : this.isArmed ? MavState.ACTIVE : MavState.STANDBY,
      landedState: this.landedState,
      home: { ...this.home },
      position: { lat: k.lat, lon: k.lon, altMsl: this.home.altMsl + k.relAltM, relAltM: k.relAltM },
      velocity: { vn: k.northMs, ve: k.eastMs, vd: -k.upMs },
      groundSpeedMs: groundSpeedMs(k),
      headingDeg: k.headingDeg,
      battery: { remainingPct: battery.remainingPct, voltageV: battery.voltageV, currentA: battery.currentA, energyWh: this.energyWh },
      gps: { ...gpsReadout(this.faults.gpsNoFix, this.gpsQuality), ...this.gpsNoise() },
      mission: { count: this.mission.count, seq: this.mission.seq, state: this.mission.state, inMissionMode: sameMode(this.mode, PX4_MODES.AUTO_MISSION) },
      faults: { ...this.faults },
      personality: this.personality.name,
      payload: { attached: this.payloadKg > 0, massKg: this.payloadKg },
      failsafe: this.failsafeName,
      wind: { ...this.wind },
      distanceM: this.distanceM,
    };
  }

  /** Cancels pending protocol timers. */
  dispose(): void {
    this.transfer.abort();
  }

  arm(): void {
    this.isArmed = true;
    this.activeFailsafes.clear();
    this.failsafeAction = null;
    this.failsafeName = null;
    this.maneuver = null;
    this.notify(MavSeverity.INFO, 'Armed by external command');
    if (this.inMode(PX4_MODES.AUTO_MISSION)) this.mission.resume();
  }

  disarm(reason: string): void {
    this.isArmed = false;
    this.maneuver = null;
    this.pausedMode = null;
    this.notify(this.kin.onGround ? MavSeverity.INFO : MavSeverity.CRITICAL, `Disarmed by ${reason}`);
  }

  switchMode(mode: Px4Mode): void {
    if (sameMode(mode, this.mode)) return;
    if (this.inMode(PX4_MODES.AUTO_MISSION)) this.mission.pause();
    this.mode = mode;
    this.pausedMode = null;
    this.maneuver = null;
    if (this.inMode(PX4_MODES.AUTO_MISSION)) this.mission.resume();
  }

  startMission(first: number): void {
    this.mission.start(first);
    this.mode = PX4_MODES.AUTO_MISSION;
    this.pausedMode = null;
    this.maneuver = null;
  }

  takeoffTo(relAltM: number): void {
    this.takeoffAltM = relAltM;
    this.switchMode(PX4_MODES.AUTO_TAKEOFF);
    this.maneuver = null;
  }

  pause(): boolean {
    if (PAUSABLE.some((m) => this.inMode(m))) {
      const from = this.mode;
      this.switchMode(PX4_MODES.AUTO_LOITER);
      this.pausedMode = from;
    }
    return true;
  }

  resume(): boolean {
    const to = this.pausedMode ?? (PAUSABLE.some((m) => this.inMode(m)) ? this.mode : this.mission.resumable ? PX4_MODES.AUTO_MISSION : null);
    if (!to) return false;
    this.switchMode(to);
    return true;
  }

  notify(severity: MavSeverityValue, text: string): void {
    this.opts.emit({ kind: 'statustext', severity, text });
  }

  private inMode(mode: Px4Mode): boolean {
    return sameMode(this.mode, mode);
  }

  private flightTarget(): FlightTarget {
    if (this.isArmed) {
      const first = this.guideOnce();
      if (!first.done) return first.target;
      this.maneuverDone();
    }
    if (!this.isArmed) {
      this.landing = false;
      return this.kin.onGround ? { kind: 'ground' } : { kind: 'freefall' };
    }
    // The next maneuver starts in the same step; if it is already done too, that shows next step.
    return this.guideOnce().target;
  }

  private guideOnce(): { target: FlightTarget; done: boolean } {
    this.maneuver ??= this.planManeuver();
    const g = guide(this.maneuver, { kin: this.kin, home: this.home, nowS: this.simS });
    this.maneuver = g.maneuver;
    this.landing = g.landing;
    return g;
  }

  private planManeuver(): Maneuver {
    const kin = this.kin;
    if (this.inMode(PX4_MODES.AUTO_MISSION)) {
      // [MAV_CMD_DO_GRIPPER] as a mission item: param2 0 release, 1 grab (the same as the command).
      const item = this.mission.currentItem;
      if (item?.command === MavCmd.DO_GRIPPER) this.gripper(item.param2);
      return this.mission.maneuver({ kin, nowS: this.simS, rtlAltM: this.rtlAltM }) ?? holdHere(kin);
    }
    if (this.inMode(PX4_MODES.AUTO_TAKEOFF)) return takeoff(kin, this.takeoffAltM);
    if (this.inMode(PX4_MODES.AUTO_RTL)) return returnToLaunch(kin, this.rtlAltM);
    if (this.inMode(PX4_MODES.AUTO_LAND)) return land(kin, null);
    return holdHere(kin);
  }

  private maneuverDone(): void {
    const finished = this.maneuver;
    this.maneuver = null;
    // PX4 reports TAKEOFF only for the climb of the maneuver that left the ground.
    this.climbingFromGround = false;
    if (this.inMode(PX4_MODES.AUTO_MISSION)) {
      this.opts.emit({ kind: 'mission-item-reached', seq: this.mission.seq });
      const outcome = this.mission.itemDone(this.kin.onGround);
      if (outcome.kind === 'next') return;
      this.notify(MavSeverity.INFO, 'Mission finished');
      if (outcome.disarm) this.disarm('landing');
      this.mode = PX4_MODES.AUTO_LOITER;
      if (this.isArmed && finished) this.maneuver = holdAfter(finished, this.kin);
      return;
    }
    // AUTO.TAKEOFF ends in a hold at altitude; AUTO.RTL and AUTO.LAND end on the ground.
    if (!this.inMode(PX4_MODES.AUTO_TAKEOFF) && this.kin.onGround) this.disarm('landing');
    this.mode = PX4_MODES.AUTO_LOITER;
    if (this.isArmed && finished) this.maneuver = holdAfter(finished, this.kin);
  }

  private trackLandedState(before: Kinematics): void {
    const k = this.kin;
    if (before.onGround && !k.onGround) {
      this.climbingFromGround = true;
      this.notify(MavSeverity.INFO, 'Takeoff detected');
    } else if (!before.onGround && k.onGround) {
      this.climbingFromGround = false;
      this.notify(MavSeverity.INFO, 'Landing detected');
    } else if (this.climbingFromGround && k.upMs < 0.05) {
      this.climbingFromGround = false;
    }
    this.landedState = k.onGround
      ? MavLandedState.ON_GROUND
      : this.landing ? MavLandedState.LANDING : this.climbingFromGround ? MavLandedState.TAKEOFF : MavLandedState.IN_AIR;
  }

  private checkBattery(): void {
    const pct = (this.energyWh / this.batteryParams.capacityWh) * 100;
    if (this.batteryAlarm < 2 && pct < BATTERY_CRITICAL_PCT) {
      this.batteryAlarm = 2;
      this.notify(MavSeverity.CRITICAL, 'Critical battery level!');
    } else if (this.batteryAlarm < 1 && pct < BATTERY_LOW_PCT) {
      this.batteryAlarm = 1;
      this.notify(MavSeverity.WARNING, 'Low battery level!');
    }
  }

  private applySettings(): void {
    this.rtlAltM = this.settings.rtlAltM;
    this.physics.cruiseSpeedMs = this.settings.cruiseSpeedMs;
  }

  private emitParam(index: number): void {
    const d = this.params.at(index);
    this.opts.emit({ kind: 'param-value', id: d.id, value: d.value, type: d.type, count: this.params.count, index });
  }

  /** GPS_RAW_INT's position error, seeded; the fused position (GLOBAL_POSITION_INT) stays clean. */
  private gpsNoise(): { noiseNorthM?: number; noiseEastM?: number } {
    if (this.gpsNoiseM <= 0) return {};
    return { noiseNorthM: this.rng.gaussian() * this.gpsNoiseM, noiseEastM: this.rng.gaussian() * this.gpsNoiseM };
  }

  private checkFailsafes(): void {
    const battery = (this.energyWh / this.batteryParams.capacityWh) * 100;
    // The common case, checked without building anything: nothing can be wrong on the ground or
    // disarmed, nor in a healthy flight with no fence or link timeout configured.
    const st = this.settings;
    const quiet = !this.isArmed || this.kin.onGround ||
      (battery >= st.batteryLowPct && battery >= st.batteryCriticalPct && this.gpsFix3d && this.motorsHealthy &&
        st.fenceRadiusM <= 0 && st.fenceAltMaxM <= 0 && (st.linkLossTimeoutS <= 0 || this.lastGcsMs === null));
    if (quiet) {
      this.activeFailsafes.clear();
      return;
    }
    const present = failsafeConditions({
      armed: this.isArmed, onGround: this.kin.onGround, remainingPct: battery, gpsFix: this.gpsFix3d,
      motorFailure: !this.motorsHealthy, msSinceGcs: this.lastGcsMs === null ? null : this.opts.clock.now() - this.lastGcsMs,
      distanceFromHomeM: horizontalDistanceM(this.home, this.kin), relAltM: this.kin.relAltM,
    }, this.settings);
    const names = new Set(present.map((c) => c.name));
    for (const name of this.activeFailsafes) if (!names.has(name)) this.activeFailsafes.delete(name);
    for (const c of present) {
      if (this.activeFailsafes.has(c.name)) continue;
      this.activeFailsafes.add(c.name);
      this.notify(MavSeverity.CRITICAL, c.text);
      if (!overrides(c.action, this.failsafeAction)) continue;
      this.failsafeAction = c.action;
      this.failsafeName = c.name;
      // Without a position estimate there is no way home: RTL becomes land (ArduPilot does the same).
      const action = c.action === 'rtl' && !this.gpsFix3d ? 'land' : c.action;
      const mode = action === 'rtl' ? PX4_MODES.AUTO_RTL : action === 'land' ? PX4_MODES.AUTO_LAND : PX4_MODES.AUTO_LOITER;
      if (!this.inMode(mode)) this.switchMode(mode);
    }
  }

  private onPlan(items: readonly MissionItem[]): void {
    this.mission.setPlan(items);
    if (!this.inMode(PX4_MODES.AUTO_MISSION)) return;
    // A new plan replaces the running one from its first item; an empty one ends the mission.
    if (items.length > 0) this.mission.start(0);
    else this.mode = PX4_MODES.AUTO_LOITER;
    this.maneuver = null;
  }
}
