import type { Spool, SpoolRecord, SpoolStats, UplinkKind } from '../ports.js';
import { RECORD_OVERHEAD, toDrop, type SpoolLimits } from '../domain/spool-policy.js';

/** In-memory twin of DiskSpool: same policy, nothing survives the process. */
export class MemorySpool implements Spool {
  readonly stats: SpoolStats = { appended: 0, forwarded: 0, dropped: { status: 0, event: 0, result: 0 } };
  private records: SpoolRecord[] = [];
  private nextId = 1;
  private total = 0;

  constructor(private readonly limits: SpoolLimits) {}

  get length(): number {
    return this.records.length;
  }

  get bytes(): number {
    return this.total;
  }

  append(kind: UplinkKind, body: Buffer, at: number): void {
    this.records.push({ id: this.nextId++, kind, at, body: Buffer.from(body) });
    this.total += body.length + RECORD_OVERHEAD;
    this.stats.appended += 1;
    if (this.total > this.limits.maxBytes) this.apply(at);
  }

  peek(max: number): SpoolRecord[] {
    return this.records.slice(0, max);
  }

  ack(id: number): void {
    while (this.records.length > 0 && this.records[0]!.id <= id) {
      this.total -= this.records.shift()!.body.length + RECORD_OVERHEAD;
      this.stats.forwarded += 1;
    }
  }

  expire(now: number): void {
    this.apply(now);
  }

  private apply(now: number): void {
    const drop = toDrop(this.records.map((r) => ({ id: r.id, kind: r.kind, at: r.at, size: r.body.length + RECORD_OVERHEAD })), this.total, this.limits, now);
    if (drop.size === 0) return;
    this.records = this.records.filter((r) => {
      if (!drop.has(r.id)) return true;
      this.total -= r.body.length + RECORD_OVERHEAD;
      this.stats.dropped[r.kind] += 1;
      return false;
    });
  }

  close(): void {
    this.records = [];
  }
}
