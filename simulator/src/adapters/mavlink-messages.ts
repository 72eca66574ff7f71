import { common, minimal, type MavLinkData } from 'node-mavlink';
import { telemetryMessage } from './mavlink-telemetry.js';
import type { MavFrame } from '@aerie/mavlink';
import type { MissionItem, Sender, VehicleInput, VehicleOutput } from '../domain/types.js';

/** [STATUSTEXT] text is a char[50]; longer texts would need chunking, so they are cut. */
const STATUSTEXT_MAX = 50;

/** The plain input a received message means to the flight controller, or null when it means nothing. */
export function toVehicleInput(msg: MavLinkData, frame: Pick<MavFrame, 'sysid' | 'compid'>): VehicleInput | null {
  const from: Sender = { sysid: frame.sysid, compid: frame.compid };
  if (msg instanceof common.CommandLong) {
    return {
      kind: 'command-long', from, targetSystem: msg.targetSystem, command: msg.command, confirmation: msg.confirmation,
      params: [msg._param1, msg._param2, msg._param3, msg._param4, msg._param5, msg._param6, msg._param7],
    };
  }
  if (msg instanceof common.CommandInt) {
    return {
      kind: 'command-int', from, targetSystem: msg.targetSystem, command: msg.command, frame: msg.frame,
      params: [msg._param1, msg._param2, msg._param3, msg._param4, msg._param5, msg._param6, msg._param7],
    };
  }
  if (msg instanceof common.SetMode) {
    return { kind: 'set-mode', from, targetSystem: msg.targetSystem, baseMode: msg.baseMode, customMode: msg.customMode };
  }
  if (msg instanceof common.ParamRequestList) return { kind: 'param-request-list', from, targetSystem: msg.targetSystem };
  if (msg instanceof common.ParamRequestRead) {
    return { kind: 'param-request-read', from, targetSystem: msg.targetSystem, id: paramId(msg.paramId), index: msg.paramIndex };
  }
  if (msg instanceof common.ParamSet) {
    return { kind: 'param-set', from, targetSystem: msg.targetSystem, id: paramId(msg.paramId), value: msg.paramValue };
  }
  if (msg instanceof common.RequestDataStream) {
    return {
      kind: 'request-data-stream', from, targetSystem: msg.targetSystem, streamId: msg.reqStreamId, rateHz: msg.reqMessageRate, start: msg.startStop === 1,
    };
  }
  if (msg instanceof common.MissionSetCurrent) return { kind: 'mission-set-current', from, targetSystem: msg.targetSystem, seq: msg.seq };
  // Another vehicle's HEARTBEAT (an autopilot type) is not a ground station keeping the link up.
  if (msg instanceof minimal.Heartbeat && msg.autopilot === minimal.MavAutopilot.INVALID) return { kind: 'gcs-heartbeat', from, targetSystem: 0 };
  if (msg instanceof common.MissionCount) {
    return { kind: 'mission-count', from, targetSystem: msg.targetSystem, count: msg.count, missionType: msg.missionType };
  }
  if (msg instanceof common.MissionItemInt) {
    const item: MissionItem = {
      seq: msg.seq, frame: msg.frame, command: msg.command, param1: msg.param1, param2: msg.param2, param3: msg.param3,
      param4: msg.param4, x: msg.x, y: msg.y, z: msg.z, autocontinue: msg.autocontinue,
    };
    return { kind: 'mission-item', from, targetSystem: msg.targetSystem, missionType: msg.missionType, item };
  }
  if (msg instanceof common.MissionClearAll) {
    return { kind: 'mission-clear-all', from, targetSystem: msg.targetSystem, missionType: msg.missionType };
  }
  if (msg instanceof common.MissionRequestList) {
    return { kind: 'mission-request-list', from, targetSystem: msg.targetSystem, missionType: msg.missionType };
  }
  if (msg instanceof common.MissionRequestInt) {
    return { kind: 'mission-request', from, targetSystem: msg.targetSystem, missionType: msg.missionType, seq: msg.seq };
  }
  return null;
}

/** [PARAM_*] param_id is char[16], NUL-terminated only when shorter than 16. */
function paramId(raw: string): string {
  const nul = raw.indexOf('\0');
  return (nul >= 0 ? raw.slice(0, nul) : raw).trim();
}

/** The MAVLink message carrying one flight-controller event. */
export function toMavlink(out: VehicleOutput): MavLinkData {
  switch (out.kind) {
    case 'command-ack': {
      const m = new common.CommandAck();
      m.command = out.command;
      m.result = out.result;
      m.targetSystem = out.to.sysid;
      m.targetComponent = out.to.compid;
      return m;
    }
    case 'mission-request': {
      const m = new common.MissionRequestInt();
      m.seq = out.seq;
      m.targetSystem = out.to.sysid;
      m.targetComponent = out.to.compid;
      m.missionType = out.missionType;
      return m;
    }
    case 'mission-ack': {
      const m = new common.MissionAck();
      m.type = out.result;
      m.targetSystem = out.to.sysid;
      m.targetComponent = out.to.compid;
      m.missionType = out.missionType;
      return m;
    }
    case 'mission-count': {
      const m = new common.MissionCount();
      m.count = out.count;
      m.targetSystem = out.to.sysid;
      m.targetComponent = out.to.compid;
      m.missionType = out.missionType;
      return m;
    }
    case 'mission-item': {
      const m = new common.MissionItemInt();
      const i = out.item;
      m.targetSystem = out.to.sysid;
      m.targetComponent = out.to.compid;
      m.seq = i.seq;
      m.frame = i.frame;
      m.command = i.command;
      m.current = 0;
      m.autocontinue = i.autocontinue;
      [m.param1, m.param2, m.param3, m.param4] = [i.param1, i.param2, i.param3, i.param4];
      [m.x, m.y, m.z] = [i.x, i.y, i.z];
      m.missionType = common.MavMissionType.MISSION;
      return m;
    }
    case 'mission-item-reached': {
      const m = new common.MissionItemReached();
      m.seq = out.seq;
      return m;
    }
    case 'statustext': {
      const m = new common.StatusText();
      m.severity = out.severity;
      m.text = out.text.slice(0, STATUSTEXT_MAX);
      return m;
    }
    case 'param-value': {
      const m = new common.ParamValue();
      m.paramId = out.id.slice(0, 16);
      m.paramValue = out.value;
      m.paramType = out.type;
      m.paramCount = out.count;
      m.paramIndex = out.index;
      return m;
    }
    case 'stream-now':
      return telemetryMessage(out.stream, out.snapshot);
  }
}
