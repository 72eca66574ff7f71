import type { UplinkKind } from '../ports.js';

export interface SpoolLimits {
  maxBytes: number;
  statusMaxAgeMs: number;
  /** Events and command results are kept longer than status: they are what a fleet manager audits. */
  eventMaxAgeMs: number;
}

export interface Indexed {
  id: number;
  kind: UplinkKind;
  at: number;
  size: number;
}

/**
 * Which queued records to drop, oldest status first, then the oldest event or result, until the
 * queue fits `maxBytes`; and which are past their age. Pure, shared by both spools.
 */
export function toDrop(index: readonly Indexed[], totalBytes: number, limits: SpoolLimits, now: number): Set<number> {
  const drop = new Set<number>();
  let bytes = totalBytes;
  for (const r of index) {
    const maxAge = r.kind === 'status' ? limits.statusMaxAgeMs : limits.eventMaxAgeMs;
    if (now - r.at > maxAge) {
      drop.add(r.id);
      bytes -= r.size;
    }
  }
  // Once over the limit, drop to 80 % of it so a full disk queue is not rewritten on every append.
  const target = bytes > limits.maxBytes ? limits.maxBytes * 0.8 : limits.maxBytes;
  for (const r of index) {
    if (bytes <= target) break;
    if (r.kind === 'status' && !drop.has(r.id)) {
      drop.add(r.id);
      bytes -= r.size;
    }
  }
  for (const r of index) {
    if (bytes <= target) break;
    if (!drop.has(r.id)) {
      drop.add(r.id);
      bytes -= r.size;
    }
  }
  return drop;
}

/** Bytes a record takes on disk besides its body: u32 length, u8 kind, f64 time, u32 CRC-32. */
export const RECORD_OVERHEAD = 17;
