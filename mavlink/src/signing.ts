import { createHash } from 'node:crypto';

/** MAVLink 2 signing epoch: 2015-01-01T00:00:00Z, in units of 10 µs. */
const SIGNING_EPOCH_MS = Date.UTC(2015, 0, 1);

/** Key convention of Mission Planner and MAVProxy: SHA-256 of the passphrase. */
export function signingKeyFromPassphrase(passphrase: string): Buffer {
  return createHash('sha256').update(passphrase).digest();
}

export function signingTimestampFromMs(epochMs: number): number {
  return Math.max(0, Math.round((epochMs - SIGNING_EPOCH_MS) * 100));
}

/**
 * signature = first 48 bits of SHA-256(secret_key + header + payload + crc + link_id + timestamp)
 * (MAVLink 2 message signing, "Signature").
 */
export function computeSignature(key: Buffer, unsignedPacket: Buffer, linkId: number, timestamp: number): Buffer {
  const tail = Buffer.alloc(7);
  tail.writeUInt8(linkId, 0);
  tail.writeUIntLE(timestamp, 1, 6);
  return createHash('sha256').update(key).update(unsignedPacket).update(tail).digest().subarray(0, 6);
}

/** Appends the 13-byte signature block to a MAVLink 2 packet whose incompat flag is already set. */
export function appendSignature(key: Buffer, unsignedPacket: Buffer, linkId: number, timestamp: number): Buffer {
  const block = Buffer.alloc(13);
  block.writeUInt8(linkId, 0);
  block.writeUIntLE(timestamp, 1, 6);
  computeSignature(key, unsignedPacket, linkId, timestamp).copy(block, 7);
  return Buffer.concat([unsignedPacket, block]);
}

export interface SignatureFields {
  linkId: number;
  timestamp: number;
}

export function readSignature(signature: Buffer): SignatureFields {
  return { linkId: signature.readUInt8(0), timestamp: signature.readUIntLE(1, 6) };
}

/** True when a signed packet's signature matches the key. */
export function verifySignature(key: Buffer, raw: Buffer): boolean {
  const unsigned = raw.subarray(0, raw.length - 13);
  const { linkId, timestamp } = readSignature(raw.subarray(raw.length - 13));
  return computeSignature(key, unsigned, linkId, timestamp).equals(raw.subarray(raw.length - 6));
}
