import { encodeMessage, systemClock, type Clock, type CommandResult, type DroneEvent, type DroneStatus } from '@aerie/contracts';
import type { Spool, Uplink, UplinkKind } from '../ports.js';

const BATCH = 20;
/** At close, how long acknowledgements already on their way are awaited before the rest goes to the spool (ms). */
const HANDBACK_WAIT_MS = 2_000;

/**
 * Store-and-forward around any Uplink that confirms delivery: while it is down, DroneStatus,
 * DroneEvents and CommandResults go to the spool; once it is back, live messages flow again at
 * once while the backlog drains oldest first, a batch at a time, each record removed only after
 * the broker acknowledged it. Downstream dedupes a replayed message by (bootId, seq).
 *
 * Live statuses and events are sent as confirmed publishes and remembered until the broker
 * acknowledges them; at close (SIGTERM) what is still unacknowledged — in flight, or in the
 * transport's memory while the broker is unreachable — is written to the spool, which is
 * fsynced, so the next start sends it. A live message the transport gives up on goes there too.
 */
export class SpoolingUplink implements Uplink {
  private draining: Promise<void> | null = null;
  private readonly timer: unknown;
  /** Live messages sent and not yet acknowledged, in the order sent. */
  private readonly unacked = new Map<number, { kind: UplinkKind; body: Buffer; at: number }>();
  private nextLive = 0;
  private closing = false;
  private closed = false;

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
    this.send('status', Buffer.from(encodeMessage(status)));
  }

  publishEvent(event: DroneEvent): void {
    this.send('event', Buffer.from(encodeMessage(event)));
  }

  publishResult(result: CommandResult): void {
    if (this.closed) return;
    // Through the transport's own path: on IoT Hub a result a direct method awaits is its response.
    if (this.inner.connected && !this.closing) this.inner.publishResult(result);
    else this.spool.append('result', Buffer.from(encodeMessage(result)), this.clock.now());
  }

  private send(kind: UplinkKind, body: Buffer): void {
    if (this.closed) return;
    const at = this.clock.now();
    if (!this.inner.connected || this.closing) return this.spool.append(kind, body, at);
    const id = this.nextLive++;
    this.unacked.set(id, { kind, body, at });
    void this.inner.publishConfirmed(kind, body).then((ok) => {
      // Not in the map any more: close() has already handed it to the spool.
      if (this.unacked.delete(id) && !ok && !this.closed) this.spool.append(kind, body, at);
    });
  }

  publishConfirmed(kind: UplinkKind, body: Buffer): Promise<boolean> {
    return this.inner.publishConfirmed(kind, body);
  }

  onCommand(listener: (payload: Buffer) => void): void {
    this.inner.onCommand(listener);
  }

  /** Sends the backlog in order; stops at the first failure and tries again on reconnect or the next poll. */
  drain(): Promise<void> {
    this.draining ??= this.drainBacklog().finally(() => (this.draining = null));
    return this.draining;
  }

  private async drainBacklog(): Promise<void> {
    while (this.inner.connected && !this.closing && this.spool.length > 0) {
      const batch = this.spool.peek(BATCH);
      const ok = await Promise.all(batch.map((r) => this.inner.publishConfirmed(r.kind, r.body)));
      // Closed meanwhile: the batch stays in the spool (sent again next start, deduped downstream).
      if (this.closed) return;
      const delivered = ok.indexOf(false) === -1 ? batch.length : ok.indexOf(false);
      if (delivered > 0) this.spool.ack(batch[delivered - 1]!.id);
      if (delivered < batch.length) break;
    }
  }

  /**
   * Hands back what it holds: waits a little (HANDBACK_WAIT_MS) for acknowledgements already on
   * their way while connected, writes every message still unacknowledged to the spool, fsyncs
   * it, then closes the transport (which no longer waits for those PUBACKs).
   */
  async close(): Promise<void> {
    this.closing = true;
    this.clock.clearInterval(this.timer);
    const deadline = Date.now() + HANDBACK_WAIT_MS;
    while (this.inner.connected && (this.unacked.size > 0 || this.draining) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    for (const m of this.unacked.values()) this.spool.append(m.kind, m.body, m.at);
    this.unacked.clear();
    this.closed = true;
    this.spool.close();
    await this.inner.close();
  }
}
