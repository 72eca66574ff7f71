import { mkdir, open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { C2dQueues } from '../domain/iothub-c2d.js';
import type { TwinProps, TwinStore } from '../domain/iothub-twin.js';

/** One change to the IoT Hub endpoint's durable state, a line of the journal. Applying one twice changes nothing. */
export type IotRecord =
  | { t: 'c2d'; d: string; id: string; p: string; props: Record<string, string>; at: number; exp: number }
  | { t: 'done'; d: string; id: string; exp: number }
  | { t: 'drop'; d: string; id: string }
  | { t: 'twin'; d: string; s: 'desired' | 'reported'; props: TwinProps; v: number }
  | { t: 'seen'; d: string };

/** What the store keeps: the endpoint's live objects, which it snapshots and replays into. */
export interface IotState {
  twins: TwinStore;
  c2d: C2dQueues;
  /** Devices that have connected to the endpoint (their commands go out as C2D). */
  seen: Set<string>;
}

/** Past this the journal is folded into a new snapshot. */
const COMPACT_BYTES = 4 * 1024 * 1024;

export function applyRecord(s: IotState, r: IotRecord): void {
  switch (r.t) {
    case 'c2d':
      s.c2d.restore(r.d, { messageId: r.id, payload: Buffer.from(r.p, 'base64'), properties: r.props, enqueuedAt: r.at, expiresAt: r.exp });
      return;
    case 'done':
      s.c2d.complete(r.d, r.id, r.exp);
      return;
    case 'drop':
      s.c2d.drop(r.d, r.id);
      return;
    case 'twin':
      s.twins.restore(r.d, r.s, r.props, r.v);
      return;
    case 'seen':
      s.seen.add(r.d);
  }
}

function snapshotRecords(s: IotState): IotRecord[] {
  const out: IotRecord[] = [...s.seen].map((d) => ({ t: 'seen', d }));
  for (const d of s.twins.devices()) {
    for (const sec of ['desired', 'reported'] as const) {
      const { props, version } = s.twins.section(d, sec);
      out.push({ t: 'twin', d, s: sec, props, v: version });
    }
  }
  for (const q of s.c2d.entries()) {
    for (const m of q.pending) out.push({ t: 'c2d', d: q.deviceId, id: m.messageId, p: m.payload.toString('base64'), props: m.properties, at: m.enqueuedAt, exp: m.expiresAt });
    for (const [id, exp] of q.completed) out.push({ t: 'done', d: q.deviceId, id, exp });
  }
  return out;
}

/**
 * The IoT Hub endpoint's twins, C2D queues and known devices on disk, crash-safe: every change is
 * a JSON line appended to `journal.jsonl` and fdatasync'ed before `append` resolves (the endpoint
 * answers a reported-property PATCH and sends a queued message only then); changes arriving
 * during a sync share the next one (group commit). At open, and when the journal passes 4 MiB,
 * the state is written to `state.json` by write-temp, fsync, rename, fsync of the directory, and
 * the journal is truncated; a crash between the two replays the journal again, which is harmless
 * since every record is idempotent. A torn last line (kill -9 mid-append) is skipped.
 */
export class IotHubStore {
  private queued: string[] = [];
  private waiters: { resolve: () => void; reject: (err: unknown) => void }[] = [];
  private writing: Promise<void> | null = null;
  private journalBytes = 0;
  /** Journal lines that did not parse at open (a torn tail). */
  skipped = 0;

  private constructor(private readonly dir: string, private readonly state: IotState, private journal: FileHandle) {}

  static async open(dir: string, state: IotState): Promise<IotHubStore> {
    await mkdir(dir, { recursive: true });
    let skipped = 0;
    const snapshot = await readFile(join(dir, 'state.json'), 'utf8').catch(() => '[]');
    try {
      for (const r of JSON.parse(snapshot) as IotRecord[]) applyRecord(state, r);
    } catch {
      // Written by rename, so never torn; a hand-broken file starts from the journal alone.
      skipped += 1;
    }
    const journal = await readFile(join(dir, 'journal.jsonl'), 'utf8').catch(() => '');
    for (const line of journal.split('\n')) {
      if (!line) continue;
      try {
        applyRecord(state, JSON.parse(line) as IotRecord);
      } catch {
        skipped += 1;
      }
    }
    const store = new IotHubStore(dir, state, await open(join(dir, 'journal.jsonl'), 'a'));
    store.skipped = skipped;
    await store.compact();
    return store;
  }

  /** Resolves once the record is on disk. */
  append(r: IotRecord): Promise<void> {
    this.queued.push(`${JSON.stringify(r)}\n`);
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.writing ??= this.drain();
    return done;
  }

  async close(): Promise<void> {
    await this.writing;
    await this.journal.close();
  }

  private async drain(): Promise<void> {
    while (this.queued.length > 0) {
      const body = Buffer.from(this.queued.splice(0).join(''));
      const waiters = this.waiters.splice(0);
      try {
        await this.journal.write(body);
        await this.journal.datasync();
        this.journalBytes += body.length;
        if (this.journalBytes > COMPACT_BYTES) await this.compact();
        for (const w of waiters) w.resolve();
      } catch (err) {
        for (const w of waiters) w.reject(err);
      }
    }
    this.writing = null;
  }

  private async compact(): Promise<void> {
    const path = join(this.dir, 'state.json');
    const tmp = `${path}.tmp`;
    const f = await open(tmp, 'w');
    try {
      await f.writeFile(JSON.stringify(snapshotRecords(this.state)));
      await f.sync();
    } finally {
      await f.close();
    }
    await rename(tmp, path);
    // The rename itself is durable only once the directory is synced.
    const d = await open(this.dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
    await this.journal.truncate(0);
    await this.journal.datasync();
    this.journalBytes = 0;
  }
}
