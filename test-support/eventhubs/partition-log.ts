import type { Message } from 'rhea';

/** One event as the service stores it: the producer's message plus the broker's stamps. */
export interface StoredEvent {
  sequenceNumber: number;
  /** Event Hubs offsets are opaque strings; here, like the service's, the byte position in the partition. */
  offset: number;
  enqueuedTimeMs: number;
  partitionKey: string | undefined;
  message: Message;
}

/** Where a receiver starts, from its `apache.org:selector-filter:string` clause. */
export type StartPosition =
  | { kind: 'offset'; value: number; inclusive: boolean }
  | { kind: 'latest' }
  | { kind: 'sequence'; value: number; inclusive: boolean }
  | { kind: 'enqueued'; valueMs: number };

/**
 * The selector grammar the SDK emits (event-hubs dist/esm/eventPosition.js getEventPositionFilter):
 * `amqp.annotation.x-opt-offset > '…'` (or `>=`; '-1' = from the start, '@latest' = from the end),
 * `amqp.annotation.x-opt-sequence-number > '…'` (or `>=`), `amqp.annotation.x-opt-enqueued-time > '…'`.
 * Anything else is refused, as the service refuses a filter it cannot parse.
 */
export function parseSelector(filter: string): StartPosition | null {
  const m = /^amqp\.annotation\.(x-opt-offset|x-opt-sequence-number|x-opt-enqueued-time) (>=|>) '([^']*)'$/.exec(filter.trim());
  if (!m) return null;
  const [, field, op, raw] = m as unknown as [string, string, string, string];
  const inclusive = op === '>=';
  if (field === 'x-opt-offset') {
    if (raw === '@latest') return { kind: 'latest' };
    const value = Number(raw);
    return Number.isInteger(value) ? { kind: 'offset', value, inclusive } : null;
  }
  const value = Number(raw);
  if (!Number.isFinite(value)) return null;
  return field === 'x-opt-sequence-number' ? { kind: 'sequence', value, inclusive } : { kind: 'enqueued', valueMs: value };
}

/** The events of one partition, in memory: append-only, numbered from 0. */
export class PartitionLog {
  readonly events: StoredEvent[] = [];
  private nextOffset = 0;
  private readonly listeners = new Set<() => void>();

  constructor(readonly id: string, private readonly now: () => number) {}

  append(message: Message, encodedSize: number, partitionKey: string | undefined): StoredEvent {
    const e: StoredEvent = {
      sequenceNumber: this.events.length, offset: this.nextOffset, enqueuedTimeMs: this.now(), partitionKey, message,
    };
    this.nextOffset += encodedSize;
    this.events.push(e);
    for (const l of this.listeners) l();
    return e;
  }

  /** Index of the first event a receiver with this start position gets. */
  startIndex(p: StartPosition): number {
    switch (p.kind) {
      case 'latest':
        return this.events.length;
      case 'offset':
        // '-1' (earliest) is before every offset, so the exclusive test starts at 0.
        return firstIndex(this.events, (e) => (p.inclusive ? e.offset >= p.value : e.offset > p.value));
      case 'sequence':
        return firstIndex(this.events, (e) => (p.inclusive ? e.sequenceNumber >= p.value : e.sequenceNumber > p.value));
      case 'enqueued':
        return firstIndex(this.events, (e) => e.enqueuedTimeMs > p.valueMs);
    }
  }

  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get last(): StoredEvent | undefined {
    return this.events.at(-1);
  }
}

function firstIndex(events: readonly StoredEvent[], pred: (e: StoredEvent) => boolean): number {
  const i = events.findIndex(pred);
  return i < 0 ? events.length : i;
}

/**
 * Partition for a partition key. The service hashes keys with its own (undocumented) function;
 * any stable hash gives the property that matters: one key, one partition, order kept.
 */
export function partitionForKey(key: string, partitions: number): number {
  let h = 0x811c9dc5; // FNV-1a, 32 bit
  for (const b of Buffer.from(key, 'utf8')) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h % partitions;
}
