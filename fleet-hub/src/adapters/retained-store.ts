import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface RetainedMessage {
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
}

/**
 * The embedded broker's retained messages under the prefixes it keeps (svc/: assignments, the
 * core's state), in one JSON file replaced atomically (write a temp file, fsync, rename) on
 * each change. aedes' default persistence is memory only, so without this a hub restart forgot
 * every retained assignment, and with it every delivery in flight. `put` resolves once the
 * change is on disk; the broker awaits it before acknowledging the PUBLISH, so an acknowledged
 * retained message survives a crash. Retained svc/ messages change once per delivery stage,
 * not per telemetry message, so rewriting the file is cheap enough.
 */
export class FileRetainedStore {
  private chain: Promise<unknown> = Promise.resolve();
  private dirty = false;

  private constructor(private readonly path: string, private readonly messages: Map<string, RetainedMessage>, readonly prefixes: readonly string[]) {}

  static async open(path: string, prefixes: readonly string[] = ['svc/']): Promise<FileRetainedStore> {
    await mkdir(dirname(path), { recursive: true });
    const raw = await readFile(path, 'utf8').catch(() => '[]');
    const messages = new Map<string, RetainedMessage>();
    let parsed: unknown = [];
    try {
      parsed = JSON.parse(raw);
    } catch {
      // A torn file cannot happen with rename; a hand-edited broken one starts empty rather than crash.
    }
    if (Array.isArray(parsed)) {
      for (const m of parsed as { topic?: unknown; payload?: unknown; qos?: unknown }[]) {
        if (typeof m.topic !== 'string' || typeof m.payload !== 'string') continue;
        const qos = m.qos === 0 || m.qos === 2 ? m.qos : 1;
        messages.set(m.topic, { topic: m.topic, payload: Buffer.from(m.payload, 'base64'), qos });
      }
    }
    return new FileRetainedStore(path, messages, prefixes);
  }

  keeps(topic: string): boolean {
    return this.prefixes.some((p) => topic.startsWith(p));
  }

  list(): RetainedMessage[] {
    return [...this.messages.values()];
  }

  /** An empty payload clears the topic's retained message [MQTT-3.3.1-10]. */
  put(m: RetainedMessage): Promise<void> {
    if (m.payload.length === 0) this.messages.delete(m.topic);
    else this.messages.set(m.topic, { topic: m.topic, payload: Buffer.from(m.payload), qos: m.qos });
    this.dirty = true;
    // Puts that arrive while a write is in progress share the next one.
    const next = this.chain.then(() => this.flush());
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async flush(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    const body = JSON.stringify(this.list().map((m) => ({ topic: m.topic, qos: m.qos, payload: m.payload.toString('base64') })));
    const tmp = `${this.path}.tmp`;
    const f = await open(tmp, 'w');
    try {
      await f.writeFile(body);
      await f.sync();
    } finally {
      await f.close();
    }
    await rename(tmp, this.path);
  }
}
