/**
 * Per-device cloud-to-device queues as IoT Hub keeps them
 * (learn.microsoft.com/azure/iot-hub/iot-hub-devguide-messages-c2d): a message waits for its
 * device until the device completes it or its time to live runs out (IoT Hub's default TTL is
 * one hour), and at most 50 wait per device (the excess is refused). Over MQTT a PUBACK completes
 * the message (the SDK's `complete` is a no-op there; abandon and reject are not available on
 * MQTT). Pure: the caller gives the clock and persists what changes (adapters/iothub-store.ts).
 *
 * A message id is unique per device while the message or its completion is live: the hub's
 * commands carry their commandId as the message id, so a command the hub sends again (the
 * retained assignment replayed after a restart, the mission re-sent when the drone comes
 * online) is not queued twice and the device receives it once.
 */

export interface C2dMessage {
  messageId: string;
  payload: Buffer;
  properties: Record<string, string>;
  enqueuedAt: number;
  expiresAt: number;
}

export type EnqueueOutcome =
  | { ok: true; message: C2dMessage }
  | { ok: false; reason: 'IOTHUB_C2D_QUEUE_FULL' | 'IOTHUB_C2D_DUPLICATE' };

interface DeviceQueue {
  pending: C2dMessage[];
  /** messageId → expiry of a completed message, kept until then so a re-send is recognised. */
  completed: Map<string, number>;
}

export class C2dQueues {
  private readonly devices = new Map<string, DeviceQueue>();

  constructor(readonly maxDepth: number, readonly ttlMs: number) {}

  /** Queues a message; refused when the device already has maxDepth waiting or the id is live. */
  enqueue(deviceId: string, messageId: string, payload: Buffer, properties: Record<string, string>, now: number): EnqueueOutcome {
    const q = this.queue(deviceId);
    if (this.isLive(q, messageId, now)) return { ok: false, reason: 'IOTHUB_C2D_DUPLICATE' };
    if (q.pending.length >= this.maxDepth) return { ok: false, reason: 'IOTHUB_C2D_QUEUE_FULL' };
    const message: C2dMessage = { messageId, payload, properties, enqueuedAt: now, expiresAt: now + this.ttlMs };
    q.pending.push(message);
    return { ok: true, message };
  }

  /** Puts back a message read from disk (no depth check: it was admitted before). False if already there. */
  restore(deviceId: string, m: C2dMessage): boolean {
    const q = this.queue(deviceId);
    if (q.pending.some((p) => p.messageId === m.messageId) || q.completed.has(m.messageId)) return false;
    q.pending.push(m);
    return true;
  }

  /** The device acknowledged it; the id stays known until the message would have expired. */
  complete(deviceId: string, messageId: string, expiresAt?: number): C2dMessage | null {
    const q = this.queue(deviceId);
    const i = q.pending.findIndex((m) => m.messageId === messageId);
    const m = i === -1 ? null : q.pending.splice(i, 1)[0]!;
    const until = m?.expiresAt ?? expiresAt;
    if (until !== undefined) q.completed.set(messageId, until);
    return m;
  }

  /** Removes a message without completing it (its TTL ran out). */
  drop(deviceId: string, messageId: string): void {
    const q = this.devices.get(deviceId);
    if (q) q.pending = q.pending.filter((m) => m.messageId !== messageId);
  }

  /** Removes and returns every message whose TTL has run out; forgets completions past theirs. */
  expire(now: number): { deviceId: string; message: C2dMessage }[] {
    const out: { deviceId: string; message: C2dMessage }[] = [];
    for (const [deviceId, q] of this.devices) {
      const keep: C2dMessage[] = [];
      for (const m of q.pending) {
        if (m.expiresAt <= now) out.push({ deviceId, message: m });
        else keep.push(m);
      }
      q.pending = keep;
      for (const [id, exp] of q.completed) if (exp <= now) q.completed.delete(id);
      if (q.pending.length === 0 && q.completed.size === 0) this.devices.delete(deviceId);
    }
    return out;
  }

  pending(deviceId: string): readonly C2dMessage[] {
    return this.devices.get(deviceId)?.pending ?? [];
  }

  /** Everything live, for a snapshot. */
  entries(): { deviceId: string; pending: readonly C2dMessage[]; completed: [string, number][] }[] {
    return [...this.devices].map(([deviceId, q]) => ({ deviceId, pending: q.pending, completed: [...q.completed] }));
  }

  private isLive(q: DeviceQueue, messageId: string, now: number): boolean {
    const done = q.completed.get(messageId);
    return (done !== undefined && done > now) || q.pending.some((m) => m.messageId === messageId);
  }

  private queue(deviceId: string): DeviceQueue {
    let q = this.devices.get(deviceId);
    if (!q) this.devices.set(deviceId, (q = { pending: [], completed: new Map() }));
    return q;
  }
}
