/**
 * CRC-16/MCRF4XX ("X.25" in the MAVLink docs) over `buf[start, end)`, then over the message's
 * CRC_EXTRA byte when given: the MAVLink packet checksum (MAVLink serialization, "Checksum").
 * Same arithmetic as the C library's crc_accumulate().
 */
export function x25crc(buf: Uint8Array, start: number, end: number, crcExtra?: number): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) crc = accumulate(buf[i]!, crc);
  if (crcExtra !== undefined) crc = accumulate(crcExtra, crc);
  return crc;
}

function accumulate(byte: number, crc: number): number {
  let tmp = byte ^ (crc & 0xff);
  tmp = (tmp ^ (tmp << 4)) & 0xff;
  return ((crc >> 8) ^ (tmp << 8) ^ (tmp << 3) ^ (tmp >> 4)) & 0xffff;
}
