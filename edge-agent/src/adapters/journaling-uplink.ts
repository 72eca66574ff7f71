import { encodeMessage, type CommandResult, type DroneEvent, type DroneStatus } from '@aerie/contracts';
import type { Uplink, UplinkKind } from '../ports.js';
import type { JournalEntry, PublishJournal } from './publish-journal.js';

/**
 * Journals every DroneStatus the broker acknowledged, around any Uplink that confirms delivery.
 * Sits inside SpoolingUplink, so both paths pass through it: a live status goes out as a confirmed
 * publish (the same QoS 1 PUBLISH as before, now with its PUBACK awaited), a spooled one is
 * journaled when its replay is confirmed. A status the uplink never confirms — the process died
 * with it in mqtt.js's memory — is not journaled: it was never published.
 */
export class JournalingUplink implements Uplink {
  constructor(private readonly inner: Uplink & Required<Pick<Uplink, 'publishConfirmed'>>, readonly journal: PublishJournal) {}

  get connected(): boolean {
    return this.inner.connected;
  }

  publishStatus(status: DroneStatus): void {
    void this.inner.publishConfirmed('status', Buffer.from(encodeMessage(status))).then((ok) => {
      if (ok) this.journal.record(status);
    });
  }

  publishEvent(event: DroneEvent): void {
    this.inner.publishEvent(event);
  }

  publishResult(result: CommandResult): void {
    this.inner.publishResult(result);
  }

  async publishConfirmed(kind: UplinkKind, body: Buffer): Promise<boolean> {
    const ok = await this.inner.publishConfirmed(kind, body);
    if (ok && kind === 'status') {
      // The spool holds the encoded message (CRC-checked); its ids are read back from it.
      try {
        this.journal.record(JSON.parse(body.toString('utf8')) as JournalEntry);
      } catch {
        this.journal.errors += 1;
      }
    }
    return ok;
  }

  onCommand(listener: (payload: Buffer) => void): void {
    this.inner.onCommand(listener);
  }

  onConnectionChange(listener: (connected: boolean) => void): void {
    this.inner.onConnectionChange?.(listener);
  }

  /** Closes the transport first (mqtt.js waits for in-flight PUBACKs), then writes the journal's last lines. */
  async close(): Promise<void> {
    try {
      await this.inner.close();
    } finally {
      this.journal.close();
    }
  }
}
