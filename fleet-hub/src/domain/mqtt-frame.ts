/** The body length of the packet whose fixed header `readFixedHeader` read last. */
export interface FixedHeader {
  length: number;
}

/**
 * An MQTT fixed header [MQTT-2.2.3]: after the type byte at `off`, the remaining length in 1–4
 * bytes, 7 bits each, high bit = more follows. Returns the offset where the packet's body starts
 * and sets `out.length` to the body's length; 0 while the header is still incomplete; -1 when it
 * is malformed (a fifth length byte). `out` is the caller's, reused, so the hub's intake
 * allocates nothing per packet.
 */
export function readFixedHeader(buf: Uint8Array, off: number, out: FixedHeader): number {
  let len = 0;
  let mul = 1;
  for (let i = off + 1; i <= off + 4; i++) {
    if (i >= buf.length) return 0;
    const b = buf[i]!;
    len += (b & 0x7f) * mul;
    mul *= 128;
    if ((b & 0x80) === 0) {
      out.length = len;
      return i + 1;
    }
  }
  return -1;
}
