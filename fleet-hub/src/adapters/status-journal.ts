import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DroneStatus } from '@aerie/contracts';
import type { TelemetryWriter } from '../ports.js';

/**
 * What this hub accepted, for accounting across the hubs of a shared group (each status taken
 * in by exactly one of them) and for an operator's audit: one JSON line per accepted status,
 * `{droneId, bootId, seq, ts}`, appended per pipeline batch (one write each) and fsynced at
 * close. A failed write is counted, never thrown into the pipeline (the port's rule).
 */
export class StatusJournal implements TelemetryWriter {
  written = 0;
  failed = 0;
  private fd: number | null;

  constructor(path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, 'a');
  }

  write(batch: readonly DroneStatus[]): void {
    if (this.fd === null) {
      this.failed += batch.length;
      return;
    }
    let text = '';
    for (const s of batch) text += `${JSON.stringify({ droneId: s.droneId, bootId: s.bootId, seq: s.seq, ts: s.ts })}\n`;
    try {
      writeSync(this.fd, text);
      this.written += batch.length;
    } catch {
      this.failed += batch.length;
    }
  }

  close(): void {
    if (this.fd === null) return;
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = null;
  }
}
