import { randomUUID } from 'node:crypto';
import type { IngestQueue, QueuedRecord } from '../ports.js';

/** What a MemoryIngestQueue keeps across a simulated restart (a new queue over the same log). */
export class MemoryLog {
  readonly id = randomUUID();
  records: QueuedRecord[] = [];
  end = 0;
}

/**
 * The in-memory twin of FileLogQueue, held to the same contract suite: durable only as long as
 * the process (tests; a throwaway core). Appends of one turn still settle together.
 */
export class MemoryIngestQueue implements IngestQueue {
  readonly id: string;
  private opened = false;

  constructor(private readonly log = new MemoryLog()) {
    this.id = log.id;
  }

  open(from: number): Promise<QueuedRecord[]> {
    this.opened = true;
    this.log.end = Math.max(this.log.end, from);
    return Promise.resolve(this.log.records.filter((r) => r.end > from).map((r) => ({ payload: Buffer.from(r.payload), end: r.end })));
  }

  append(payload: Buffer): Promise<number> {
    if (!this.opened) return Promise.reject(new Error('ingestion queue is not open'));
    const end = (this.log.end += 8 + payload.length);
    this.log.records.push({ payload: Buffer.from(payload), end });
    return new Promise((resolve) => setImmediate(() => resolve(end)));
  }

  consumed(position: number): Promise<void> {
    this.log.records = this.log.records.filter((r) => r.end > position);
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.opened = false;
    return Promise.resolve();
  }
}
