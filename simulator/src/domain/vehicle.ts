import type { Clock } from '@aerie/contracts';
import { executeCommand, DEFAULT_TAKEOFF_ALT_M, type CommandPort } from './commands.js';
import { guide, holdAfter, holdHere, land, returnToLaunch, takeoff, type Maneuver } from './maneuver.js';
import { MavLandedState, MavSeverity, MavState, MissionState, type MavLandedStateValue, type MavSeverityValue } from './mav-enums.js';
import { MissionRunner } from './mission-runner.js';
import { MissionTransfer, type MissionTransferStats } from './mission-transfer.js';
import {
  DEFAULT_BATTERY, DEFAULT_PHYSICS, batteryReadout, drainWh, gpsReadout, groundSpeedMs, powerDrawW, restingAt, step,
  type BatteryParams, type FlightTarget, type Kinematics, type PhysicsParams,
} from './physics.js';
import { PX4_MODES, encodeBaseMode, encodeCustomMode, modeName, sameMode, type Px4Mode } from './px4-mode.js';
import type { HomePosition, MissionItem, VehicleFaults, VehicleInput, VehicleOutput, VehicleSnapshot } from './types.js';

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
}

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
  private readonly rtlAltM: number;
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

  constructor(private readonly opts: VehicleOptions) {
    this.sysid = opts.sysid;
    this.home = { ...opts.home };
    this.physics = { ...DEFAULT_PHYSICS, ...opts.physics };
    this.batteryParams = { ...DEFAULT_BATTERY, ...opts.battery };
    this.rtlAltM = opts.rtlAltM ?? 30;
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
    this.kin = step(before, this.flightTarget(), dtS, this.physics);
    this.powerW = powerDrawW(this.kin, this.isArmed, this.batteryParams);
    this.energyWh = drainWh(this.energyWh, this.powerW, dtS);
    this.trackLandedState(before);
    this.checkBattery();
  }

  setFaults(faults: Partial<VehicleFaults>): void {
    const hadFix = this.gpsFix3d;
    this.faults = { ...this.faults, ...faults };
    if (hadFix && !this.gpsFix3d) this.notify(MavSeverity.WARNING, 'GPS fix lost');
    if (!hadFix && this.gpsFix3d) this.notify(MavSeverity.INFO, 'GPS fix regained');
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
      modeName: modeName(this.mode),
      customMode: encodeCustomMode(this.mode),
      baseMode: encodeBaseMode(this.mode, this.isArmed),
      systemStatus: critical ? MavState.CRITICAL : this.isArmed ? MavState.ACTIVE : MavState.STANDBY,
      landedState: this.landedState,
      home: { ...this.home },
      position: { lat: k.lat, lon: k.lon, altMsl: this.home.altMsl + k.relAltM, relAltM: k.relAltM },
      velocity: { vn: k.northMs, ve: k.eastMs, vd: -k.upMs },
      groundSpeedMs: groundSpeedMs(k),
      headingDeg: k.headingDeg,
      battery: { remainingPct: battery.remainingPct, voltageV: battery.voltageV, currentA: battery.currentA, energyWh: this.energyWh },
      gps: gpsReadout(this.faults.gpsNoFix),
      mission: { count: this.mission.count, seq: this.mission.seq, state: this.mission.state, inMissionMode: sameMode(this.mode, PX4_MODES.AUTO_MISSION) },
      faults: { ...this.faults },
    };
  }

  /** Cancels pending protocol timers. */
  dispose(): void {
    this.transfer.abort();
  }

  arm(): void {
    this.isArmed = true;
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
    if (this.inMode(PX4_MODES.AUTO_MISSION)) return this.mission.maneuver({ kin, nowS: this.simS, rtlAltM: this.rtlAltM }) ?? holdHere(kin);
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

  private onPlan(items: readonly MissionItem[]): void {
    this.mission.setPlan(items);
    if (!this.inMode(PX4_MODES.AUTO_MISSION)) return;
    // A new plan replaces the running one from its first item; an empty one ends the mission.
    if (items.length > 0) this.mission.start(0);
    else this.mode = PX4_MODES.AUTO_LOITER;
    this.maneuver = null;
  }
}
