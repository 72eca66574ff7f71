import { MAV_DATA_STREAM, MAV_RESULT_UNSUPPORTED } from '@aerie/mavlink/core';
import type { AckOutcome } from '../ports.js';

/** MAV_CMD_SET_MESSAGE_INTERVAL (common.xml): param1 message id, param2 interval in µs. */
export const MAV_CMD_SET_MESSAGE_INTERVAL = 511;

/**
 * What DroneStatus is built from. EXTENDED_SYS_STATE and BATTERY_STATUS are asked for by id:
 * ArduPilot streams neither by default (no SRn_ group carries EXTENDED_SYS_STATE).
 */
export const WANTED_MESSAGES = {
  GLOBAL_POSITION_INT: 33, VFR_HUD: 74, SYS_STATUS: 1, GPS_RAW_INT: 24, MISSION_CURRENT: 42,
  EXTENDED_SYS_STATE: 245, BATTERY_STATUS: 147,
} as const;

/** REQUEST_DATA_STREAM groups (MAV_DATA_STREAM) that carry the same messages on ArduPilot's SRn_ scheme. */
const LEGACY_STREAMS = [
  MAV_DATA_STREAM.EXTENDED_STATUS, MAV_DATA_STREAM.POSITION, MAV_DATA_STREAM.EXTRA1, MAV_DATA_STREAM.EXTRA2, MAV_DATA_STREAM.EXTRA3,
];

export interface StreamRateResult {
  method: 'message-interval' | 'data-stream' | 'none';
  /** Per message name: the COMMAND_ACK result name, or 'timeout'. */
  acks: Record<string, string>;
}

export interface StreamRateDeps {
  commandLong(command: number, params: readonly number[]): Promise<AckOutcome>;
  /** Sends one REQUEST_DATA_STREAM. */
  requestDataStream(values: { targetSystem: number; targetComponent: number; reqStreamId: number; reqMessageRate: number; startStop: number }): void;
  target(): { sysid: number; compid: number };
}

/**
 * Asks the flight controller for telemetry at `hz` with SET_MESSAGE_INTERVAL, one message at a
 * time, reading each COMMAND_ACK. When the FC answers UNSUPPORTED or nothing at all to the first
 * one (old firmware), falls back to REQUEST_DATA_STREAM for the groups that carry them.
 */
export async function requestStreamRates(deps: StreamRateDeps, hz: number): Promise<StreamRateResult> {
  if (hz <= 0) return { method: 'none', acks: {} };
  const acks: Record<string, string> = {};
  let supported = false;
  for (const [name, id] of Object.entries(WANTED_MESSAGES)) {
    const ack = await deps.commandLong(MAV_CMD_SET_MESSAGE_INTERVAL, [id, Math.round(1e6 / hz)]);
    acks[name] = ack === 'timeout' ? 'timeout' : ack.name;
    if (ack !== 'timeout' && ack.accepted) supported = true;
    if (!supported && (ack === 'timeout' || ack.result === MAV_RESULT_UNSUPPORTED)) break;
  }
  if (supported) return { method: 'message-interval', acks };
  const { sysid, compid } = deps.target();
  for (const stream of LEGACY_STREAMS) {
    deps.requestDataStream({ targetSystem: sysid, targetComponent: compid, reqStreamId: stream, reqMessageRate: Math.max(1, Math.round(hz)), startStop: 1 });
  }
  return { method: 'data-stream', acks };
}
