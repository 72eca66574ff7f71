import { FORCE_DISARM_MAGIC, MavCmd, MavModeFlag, MavResult, MavSeverity, type MavResultValue, type MavSeverityValue } from './mav-enums.js';
import { PX4_MODES, Px4MainMode, type Px4Mode } from './px4-mode.js';
import type { Personality } from './personality.js';

/** What COMMAND_LONG handling may see and do on the flight controller. */
export interface CommandPort {
  readonly armed: boolean;
  readonly onGround: boolean;
  readonly gpsFix3d: boolean;
  readonly hasPlan: boolean;
  /** In AUTO.MISSION with the mission running. */
  readonly missionRunning: boolean;
  readonly personality: Personality;
  readonly motorsHealthy: boolean;
  /** A failsafe holds the mode (a failed motor in the air can only land). */
  readonly modeLocked: boolean;
  setMessageInterval(msgid: number, intervalUs: number): MavResultValue;
  requestMessage(msgid: number): MavResultValue;
  gripper(action: number): MavResultValue;
  setMissionCurrent(seq: number): MavResultValue;
  arm(): void;
  disarm(reason: string): void;
  switchMode(mode: Px4Mode): void;
  startMission(first: number): void;
  takeoffTo(relAltM: number): void;
  /** False when there is nothing to pause. */
  pause(): boolean;
  /** False when there is nothing to continue. */
  resume(): boolean;
  notify(severity: MavSeverityValue, text: string): void;
}

/** PX4's MIS_TAKEOFF_ALT default, used when NAV_TAKEOFF param7 is NaN or not positive, m. */
export const DEFAULT_TAKEOFF_ALT_M = 2.5;

/** HOME_POSITION's message id (common.xml). */
const HOME_POSITION_MSGID = 242;

const int = (x: number | undefined): number => (x === undefined || Number.isNaN(x) ? 0 : Math.round(x));

/** Carries out one COMMAND_LONG and answers with its MAV_RESULT (the COMMAND_ACK.result). */
export function executeCommand(fc: CommandPort, command: number, params: readonly number[], confirmation = 0): MavResultValue {
  const p = (i: number): number => params[i - 1] ?? 0;
  switch (command) {
    case MavCmd.COMPONENT_ARM_DISARM:
      return armDisarm(fc, int(p(1)), int(p(2)));
    case MavCmd.DO_SET_MODE:
      return setMode(fc, int(p(1)), int(p(2)), int(p(3)));
    case MavCmd.MISSION_START:
      if (!fc.hasPlan || !fc.armed) return MavResult.DENIED;
      // [Command protocol] confirmation > 0 marks a re-send whose first copy may have been carried
      // out already (only its ACK lost); restarting the running mission would fly it again.
      if (confirmation === 0 || !fc.missionRunning) fc.startMission(int(p(1)));
      return MavResult.ACCEPTED;
    case MavCmd.NAV_RETURN_TO_LAUNCH:
      if (!fc.armed) return MavResult.DENIED;
      fc.switchMode(PX4_MODES.AUTO_RTL);
      return MavResult.ACCEPTED;
    case MavCmd.NAV_LAND:
      if (!fc.armed) return MavResult.DENIED;
      fc.switchMode(PX4_MODES.AUTO_LAND);
      return MavResult.ACCEPTED;
    case MavCmd.NAV_TAKEOFF: {
      if (!fc.armed) return MavResult.DENIED;
      // Aerie reads param7 as metres above home; PX4 reads it as AMSL.
      const alt = p(7);
      fc.takeoffTo(Number.isFinite(alt) && alt > 0 ? alt : DEFAULT_TAKEOFF_ALT_M);
      return MavResult.ACCEPTED;
    }
    case MavCmd.SET_MESSAGE_INTERVAL:
      return fc.setMessageInterval(int(p(1)), int(p(2)));
    case MavCmd.REQUEST_MESSAGE:
      return fc.requestMessage(int(p(1)));
    case MavCmd.GET_HOME_POSITION:
      return fc.requestMessage(HOME_POSITION_MSGID);
    case MavCmd.DO_GRIPPER:
      // [MAV_CMD_DO_GRIPPER] param1 gripper instance, param2 action (0 release, 1 grab).
      return fc.gripper(int(p(2)));
    case MavCmd.DO_SET_MISSION_CURRENT:
      return fc.setMissionCurrent(int(p(1)));
    case MavCmd.DO_PAUSE_CONTINUE: {
      // [MAV_CMD_DO_PAUSE_CONTINUE] param1: 0 pause (hold position), 1 continue.
      const action = int(p(1));
      if (action !== 0 && action !== 1) return MavResult.DENIED;
      if (!fc.armed) return MavResult.DENIED;
      return (action === 0 ? fc.pause() : fc.resume()) ? MavResult.ACCEPTED : MavResult.DENIED;
    }
    default:
      return MavResult.UNSUPPORTED;
  }
}

function armDisarm(fc: CommandPort, action: number, magic: number): MavResultValue {
  if (action === 1) {
    if (fc.armed) return MavResult.ACCEPTED;
    if (!fc.motorsHealthy) {
      fc.notify(MavSeverity.CRITICAL, 'Arming denied: motor failure');
      return MavResult.DENIED;
    }
    if (!fc.gpsFix3d) {
      fc.notify(MavSeverity.CRITICAL, 'Arming denied: no 3D GPS fix');
      return MavResult.DENIED;
    }
    fc.arm();
    return MavResult.ACCEPTED;
  }
  if (action !== 0) return MavResult.DENIED;
  if (!fc.armed) return MavResult.ACCEPTED;
  // [MAV_CMD_COMPONENT_ARM_DISARM] param2 21196 forces a disarm even in flight.
  const forced = magic === FORCE_DISARM_MAGIC;
  if (!fc.onGround && !forced) {
    fc.notify(MavSeverity.CRITICAL, 'Disarming denied: not landed');
    return MavResult.DENIED;
  }
  fc.disarm(forced && !fc.onGround ? 'forced in air' : 'external command');
  return MavResult.ACCEPTED;
}

function setMode(fc: CommandPort, baseMode: number, main: number, sub: number): MavResultValue {
  // [MAV_CMD_DO_SET_MODE] param2/param3 are only meaningful with MAV_MODE_FLAG_CUSTOM_MODE_ENABLED.
  if ((baseMode & MavModeFlag.CUSTOM_MODE_ENABLED) === 0) return MavResult.DENIED;
  const mode = fc.personality.modeFrom(main, sub);
  if (!mode) return MavResult.DENIED;
  if (fc.modeLocked) {
    fc.notify(MavSeverity.CRITICAL, 'Mode change denied: failsafe');
    return MavResult.TEMPORARILY_REJECTED;
  }
  if (mode.main === Px4MainMode.OFFBOARD) {
    fc.notify(MavSeverity.CRITICAL, 'Switching to Offboard is currently not possible');
    return MavResult.DENIED;
  }
  if (mode.main === PX4_MODES.AUTO_MISSION.main && mode.sub === PX4_MODES.AUTO_MISSION.sub && !fc.hasPlan) {
    fc.notify(MavSeverity.CRITICAL, 'Mode switch denied: no valid mission');
    return MavResult.DENIED;
  }
  fc.switchMode(mode);
  return MavResult.ACCEPTED;
}
