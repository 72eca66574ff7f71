import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { systemClock, type Clock } from '@aerie/contracts';

/** One line of the journal: the identity of a DroneStatus the broker acknowledged. */
export interface JournalEntry {
  droneId: string;
  bootId: string;
  seq: number;
  ts: number;
}

/**
 * The publish journal (config `publishJournal`, opt-in): one JSON line per DroneStatus the broker
 * took responsibility for (PUBACK), live or replayed from the spool — what an audit, and
 * bench:faults, count as published and then look for downstream by (droneId, bootId, seq).
 *
 * Append-only, written in batches: lines gather in memory and go to the file at least once a
 * second and at close, one write(2) each, so a line is never torn by a crash between writes. A
 * kill -9 loses what gathered since the last write — a journal's tail, never a status: readers
 * must count a status found downstream but not here as unjournaled, not as a duplicate or a loss.
 * A failed write is counted and its lines are dropped, never thrown: a full disk must not stop the
 * agent.
 */
export class PublishJournal {
  written = 0;
  errors = 0;
  private pending: string[] = [];
  private fd: number | null;
  private readonly timer: unknown;

  constructor(readonly path: string, private readonly clock: Clock = systemClock, flushEveryMs = 1000) {
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, 'a');
    this.timer = clock.setInterval(() => this.flush(), flushEveryMs);
  }

  record(e: JournalEntry): void {
    if (this.fd === null) return;
    this.pending.push(JSON.stringify({ droneId: e.droneId, bootId: e.bootId, seq: e.seq, ts: e.ts }));
  }

  /** Lines recorded but not yet in the file. */
  get buffered(): number {
    return this.pending.length;
  }

  flush(): void {
    if (this.fd === null || this.pending.length === 0) return;
    const lines = this.pending;
    this.pending = [];
    try {
      writeSync(this.fd, `${lines.join('\n')}\n`);
      this.written += lines.length;
    } catch {
      this.errors += 1;
    }
  }

  close(): void {
    this.clock.clearInterval(this.timer);
    this.flush();
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
