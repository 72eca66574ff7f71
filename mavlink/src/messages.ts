import { defineMessage, type MessageDef } from './message-def.js';

/*
 * The messages the edge agent sends and receives, from mavlink/mavlink minimal.xml and common.xml
 * (ids, CRC_EXTRA, fields with their extensions). Fields are listed in wire order (see
 * message-def.ts); test/messages.test.ts checks every layout, offset and CRC_EXTRA against
 * node-mavlink's generated classes and pymavlink's vectors.
 */

export const HEARTBEAT = defineMessage(0, 'HEARTBEAT', 50, [
  ['customMode', 'uint32_t'], ['type', 'uint8_t'], ['autopilot', 'uint8_t'], ['baseMode', 'uint8_t'],
  ['systemStatus', 'uint8_t'], ['mavlinkVersion', 'uint8_t'],
]);

export const SYS_STATUS = defineMessage(1, 'SYS_STATUS', 124, [
  ['onboardControlSensorsPresent', 'uint32_t'], ['onboardControlSensorsEnabled', 'uint32_t'], ['onboardControlSensorsHealth', 'uint32_t'],
  ['load', 'uint16_t'], ['voltageBattery', 'uint16_t'], ['currentBattery', 'int16_t'], ['dropRateComm', 'uint16_t'],
  ['errorsComm', 'uint16_t'], ['errorsCount1', 'uint16_t'], ['errorsCount2', 'uint16_t'], ['errorsCount3', 'uint16_t'],
  ['errorsCount4', 'uint16_t'], ['batteryRemaining', 'int8_t'],
], [
  ['onboardControlSensorsPresentExtended', 'uint32_t'], ['onboardControlSensorsEnabledExtended', 'uint32_t'],
  ['onboardControlSensorsHealthExtended', 'uint32_t'],
]);

export const GPS_RAW_INT = defineMessage(24, 'GPS_RAW_INT', 24, [
  ['timeUsec', 'uint64_t'], ['lat', 'int32_t'], ['lon', 'int32_t'], ['alt', 'int32_t'], ['eph', 'uint16_t'], ['epv', 'uint16_t'],
  ['vel', 'uint16_t'], ['cog', 'uint16_t'], ['fixType', 'uint8_t'], ['satellitesVisible', 'uint8_t'],
], [
  ['altEllipsoid', 'int32_t'], ['hAcc', 'uint32_t'], ['vAcc', 'uint32_t'], ['velAcc', 'uint32_t'], ['hdgAcc', 'uint32_t'], ['yaw', 'uint16_t'],
]);

export const GLOBAL_POSITION_INT = defineMessage(33, 'GLOBAL_POSITION_INT', 104, [
  ['timeBootMs', 'uint32_t'], ['lat', 'int32_t'], ['lon', 'int32_t'], ['alt', 'int32_t'], ['relativeAlt', 'int32_t'],
  ['vx', 'int16_t'], ['vy', 'int16_t'], ['vz', 'int16_t'], ['hdg', 'uint16_t'],
]);

/** Legacy float-item request: old firmware asks for items with it even during an _INT upload. */
export const MISSION_REQUEST = defineMessage(40, 'MISSION_REQUEST', 230, [
  ['seq', 'uint16_t'], ['targetSystem', 'uint8_t'], ['targetComponent', 'uint8_t'],
], [['missionType', 'uint8_t']]);

export const MISSION_CURRENT = defineMessage(42, 'MISSION_CURRENT', 28, [['seq', 'uint16_t']], [
  ['total', 'uint16_t'], ['missionState', 'uint8_t'], ['missionMode', 'uint8_t'], ['missionId', 'uint32_t'],
  ['fenceId', 'uint32_t'], ['rallyPointsId', 'uint32_t'],
]);

export const MISSION_COUNT = defineMessage(44, 'MISSION_COUNT', 221, [
  ['count', 'uint16_t'], ['targetSystem', 'uint8_t'], ['targetComponent', 'uint8_t'],
], [['missionType', 'uint8_t'], ['opaqueId', 'uint32_t']]);

export const MISSION_ITEM_REACHED = defineMessage(46, 'MISSION_ITEM_REACHED', 11, [['seq', 'uint16_t']]);

export const MISSION_ACK = defineMessage(47, 'MISSION_ACK', 153, [
  ['targetSystem', 'uint8_t'], ['targetComponent', 'uint8_t'], ['type', 'uint8_t'],
], [['missionType', 'uint8_t'], ['opaqueId', 'uint32_t']]);

export const MISSION_REQUEST_INT = defineMessage(51, 'MISSION_REQUEST_INT', 196, [
  ['seq', 'uint16_t'], ['targetSystem', 'uint8_t'], ['targetComponent', 'uint8_t'],
], [['missionType', 'uint8_t']]);

/** Deprecated in common.xml but the only stream-rate request old ArduPilot firmware understands. */
export const REQUEST_DATA_STREAM = defineMessage(66, 'REQUEST_DATA_STREAM', 148, [
  ['reqMessageRate', 'uint16_t'], ['targetSystem', 'uint8_t'], ['targetComponent', 'uint8_t'], ['reqStreamId', 'uint8_t'], ['startStop', 'uint8_t'],
]);

export const MISSION_ITEM_INT = defineMessage(73, 'MISSION_ITEM_INT', 38, [
  ['param1', 'float'], ['param2', 'float'], ['param3', 'float'], ['param4', 'float'], ['x', 'int32_t'], ['y', 'int32_t'], ['z', 'float'],
  ['seq', 'uint16_t'], ['command', 'uint16_t'], ['targetSystem', 'uint8_t'], ['targetComponent', 'uint8_t'], ['frame', 'uint8_t'],
  ['current', 'uint8_t'], ['autocontinue', 'uint8_t'],
], [['missionType', 'uint8_t']]);

export const VFR_HUD = defineMessage(74, 'VFR_HUD', 20, [
  ['airspeed', 'float'], ['groundspeed', 'float'], ['alt', 'float'], ['climb', 'float'], ['heading', 'int16_t'], ['throttle', 'uint16_t'],
]);

export const COMMAND_LONG = defineMessage(76, 'COMMAND_LONG', 152, [
  ['param1', 'float'], ['param2', 'float'], ['param3', 'float'], ['param4', 'float'], ['param5', 'float'], ['param6', 'float'],
  ['param7', 'float'], ['command', 'uint16_t'], ['targetSystem', 'uint8_t'], ['targetComponent', 'uint8_t'], ['confirmation', 'uint8_t'],
]);

export const COMMAND_ACK = defineMessage(77, 'COMMAND_ACK', 143, [['command', 'uint16_t'], ['result', 'uint8_t']], [
  ['progress', 'uint8_t'], ['resultParam2', 'int32_t'], ['targetSystem', 'uint8_t'], ['targetComponent', 'uint8_t'],
]);

export const BATTERY_STATUS = defineMessage(147, 'BATTERY_STATUS', 154, [
  ['currentConsumed', 'int32_t'], ['energyConsumed', 'int32_t'], ['temperature', 'int16_t'], ['voltages', 'uint16_t', 10],
  ['currentBattery', 'int16_t'], ['id', 'uint8_t'], ['batteryFunction', 'uint8_t'], ['type', 'uint8_t'], ['batteryRemaining', 'int8_t'],
], [
  ['timeRemaining', 'int32_t'], ['chargeState', 'uint8_t'], ['voltagesExt', 'uint16_t', 4], ['mode', 'uint8_t'], ['faultBitmask', 'uint32_t'],
]);

export const EXTENDED_SYS_STATE = defineMessage(245, 'EXTENDED_SYS_STATE', 130, [['vtolState', 'uint8_t'], ['landedState', 'uint8_t']]);

export const STATUSTEXT = defineMessage(253, 'STATUSTEXT', 83, [['severity', 'uint8_t'], ['text', 'char', 50]], [
  ['id', 'uint16_t'], ['chunkSeq', 'uint8_t'],
]);

/** Every message this codec knows, by id. */
export const MESSAGES: ReadonlyMap<number, MessageDef> = new Map<number, MessageDef>([
  HEARTBEAT, SYS_STATUS, GPS_RAW_INT, GLOBAL_POSITION_INT, MISSION_REQUEST, MISSION_CURRENT, MISSION_COUNT, MISSION_ITEM_REACHED,
  MISSION_ACK, MISSION_REQUEST_INT, REQUEST_DATA_STREAM, MISSION_ITEM_INT, VFR_HUD, COMMAND_LONG, COMMAND_ACK, BATTERY_STATUS,
  EXTENDED_SYS_STATE, STATUSTEXT,
].map((d) => [d.id, d]));

type Defs = typeof HEARTBEAT | typeof SYS_STATUS | typeof GPS_RAW_INT | typeof GLOBAL_POSITION_INT | typeof MISSION_REQUEST
  | typeof MISSION_CURRENT | typeof MISSION_COUNT | typeof MISSION_ITEM_REACHED | typeof MISSION_ACK | typeof MISSION_REQUEST_INT
  | typeof REQUEST_DATA_STREAM | typeof MISSION_ITEM_INT | typeof VFR_HUD | typeof COMMAND_LONG | typeof COMMAND_ACK
  | typeof BATTERY_STATUS | typeof EXTENDED_SYS_STATE | typeof STATUSTEXT;

/** A decoded message: narrow on `name` to reach typed `fields`. */
export type MavMessage = Defs extends infer D ? D extends MessageDef<infer N, infer T> ? { name: N; fields: T } : never : never;

/** Decodes a frame's payload when its id is one of MESSAGES; null otherwise (the frame is still counted by the framer). */
export function decodeMessage(frame: { msgid: number; payload: Buffer }): MavMessage | null {
  const def = MESSAGES.get(frame.msgid);
  return def ? ({ name: def.name, fields: def.decode(frame.payload) } as MavMessage) : null;
}
