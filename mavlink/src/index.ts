export { FrameDecoder, IFLAG_SIGNED, STX_V1, STX_V2, type MavFrame, type FrameStats, type CrcExtraLookup } from './frame.js';
export { REGISTRY, MavEncoder, crcExtraOf, decodeFrame, type EncoderOptions, type SigningConfig } from './codec.js';
export {
  appendSignature, computeSignature, readSignature, signingKeyFromPassphrase, signingTimestampFromMs, verifySignature,
  type SignatureFields,
} from './signing.js';
export { UdpEndpoint, type UdpEndpointOptions, type UdpPeer } from './udp.js';
export { MavLink, type ByteTransport, type LinkStats } from './link.js';
export { udpTransport } from './udp-transport.js';
export { parseFrameAt, type FrameAt } from './frame.js';
export { TlogReader, type TlogRecord, type TlogStats } from './tlog.js';
export { TcpClientTransport, type TcpClientOptions, type TcpClientStats } from './tcp-transport.js';
export { SerialTransport, type SerialOptions } from './serial-transport.js';
export { IncomingSigning, type IncomingSigningOptions, type SignatureVerdict, type SigningStats } from './signature-policy.js';
export { type LinkOptions } from './link.js';
