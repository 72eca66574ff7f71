// The whole package: the node-mavlink-free core (also published as `@aerie/mavlink/core`) plus
// node-mavlink's message classes for the simulator and tests.
export { FrameDecoder, IFLAG_SIGNED, STX_V1, STX_V2, parseFrameAt, type FrameAt, type MavFrame, type FrameStats, type CrcExtraLookup } from './frame.js';
export { x25crc } from './crc.js';
export { crcExtraOf, knownMessageIds } from './crc-extra.js';
export { MessageDef, defineMessage, type FieldLayout, type FieldSpec, type FieldValues, type WireType } from './message-def.js';
export {
  BATTERY_STATUS, COMMAND_ACK, COMMAND_LONG, EXTENDED_SYS_STATE, GLOBAL_POSITION_INT, GPS_RAW_INT, HEARTBEAT, MESSAGES, MISSION_ACK,
  MISSION_COUNT, MISSION_CURRENT, MISSION_ITEM_INT, MISSION_ITEM_REACHED, MISSION_REQUEST, MISSION_REQUEST_INT, REQUEST_DATA_STREAM,
  STATUSTEXT, SYS_STATUS, VFR_HUD, decodeMessage, type MavMessage,
} from './messages.js';
export {
  MAV_AUTOPILOT_INVALID, MAV_DATA_STREAM, MAV_MISSION_ACCEPTED, MAV_MISSION_RESULT_NAMES, MAV_MISSION_TYPE_MISSION, MAV_RESULT_ACCEPTED,
  MAV_RESULT_NAMES, MAV_RESULT_UNSUPPORTED, MAV_STATE_ACTIVE, MAV_TYPE_ONBOARD_CONTROLLER, enumName,
} from './enums.js';
export { PacketEncoder, type EncoderOptions, type SigningConfig } from './packet.js';
export { REGISTRY, MavEncoder, decodeFrame } from './codec.js';
export {
  appendSignature, computeSignature, readSignature, signingKeyFromPassphrase, signingTimestampFromMs, verifySignature,
  type SignatureFields,
} from './signing.js';
export { UdpEndpoint, type UdpEndpointOptions, type UdpPeer } from './udp.js';
export { LinkBase, type ByteTransport, type LinkEvents, type LinkOptions, type LinkStats } from './link-base.js';
export { MavLink } from './link.js';
export { MessageLink } from './message-link.js';
export { udpTransport } from './udp-transport.js';
export { TlogReader, type TlogRecord, type TlogStats } from './tlog.js';
export { TcpClientTransport, type TcpClientOptions, type TcpClientStats } from './tcp-transport.js';
export { SerialTransport, type SerialOptions } from './serial-transport.js';
export { IncomingSigning, type IncomingSigningOptions, type SignatureVerdict, type SigningStats } from './signature-policy.js';
