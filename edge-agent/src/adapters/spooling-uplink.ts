import { encodeMessage, systemClock, type Clock, type CommandResult, type DroneEvent, type DroneStatus } from '@aerie/contracts';
import type { Spool, Uplink, UplinkKind } from '../ports.js';

const BATCH = 20;

/**
 * Store-and-forward around any Uplink that confirms delivery: while it is down, DroneStatus,
 * DroneEvents and CommandResults go to the spool; once it is back, live messages flow again at
 * once while the backlog drains oldest first, a batch at a time, each record removed only after
 * the broker acknowledged it. Downstream dedupes a replayed message by (bootId, seq).
 */
export class SpoolingUplink implements Uplink {
  private draining = false;
  private readonly timer: unknown;

  constructor(private readonly inner: Uplink & Required<Pick<Uplink, 'publishConfirmed'>>, readonly spool: Spool, private readonly clock: Clock = systemClock) {
    inner.onConnectionChange?.((up) => {
      if (up) void this.drain();
    });
    // Also a slow poll: a drain that failed mid-way resumes, and old records expire while offline.
    this.timer = clock.setInterval(() => {
      spool.expire(clock.now());
      void this.drain();
    }, 1000);
  }

  get connected(): boolean {
    return this.inner.connected;
  }

  publishStatus(status: DroneStatus): void {
    if (this.inner.connected) this.inner.publishStatus(status);
    else this.spool.append('status', Buffer.from(encodeMessage(status)), this.clock.now());
  }

  publishEvent(event: DroneEvent): void {
    if (this.inner.connected) this.inner.publishEvent(event);
    else this.spool.append('event', Buffer.from(encodeMessage(event)), this.clock.now());
  }

  publishResult(result: CommandResult): void {
    if (this.inner.connected) this.inner.publishResult(result);
    else this.spool.append('result', Buffer.from(encodeMessage(result)), this.clock.now());
  }

  publishConfirmed(kind: UplinkKind, body: Buffer): Promise<boolean> {
    return this.inner.publishConfirmed(kind, body);
  }

  onCommand(listener: (payload: Buffer) => void): void {
    this.inner.onCommand(listener);
  }

  /** Sends the backlog in order; stops at the first failure and tries again on reconnect or the next poll. */
  async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.inner.connected && this.spool.length > 0) {
        const batch = this.spool.peek(BATCH);
        const ok = await Promise.all(batch.map((r) => this.inner.publishConfirmed(r.kind, r.body)));
        const delivered = ok.indexOf(false) === -1 ? batch.length : ok.indexOf(false);
        if (delivered > 0) this.spool.ack(batch[delivered - 1]!.id);
        if (delivered < batch.length) break;
      }
    } finally {
      this.draining = false;
    }
  }

  async close(): Promise<void> {
    this.clock.clearInterval(this.timer);
    await this.drain();
    this.spool.close();
    await this.inner.close();
  }
}
