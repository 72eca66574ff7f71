import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IotHubStore, type IotState } from '../src/adapters/iothub-store.js';
import { C2dQueues } from '../src/domain/iothub-c2d.js';
import { TwinStore } from '../src/domain/iothub-twin.js';

// The IoT Hub endpoint's journal and snapshot on a real file system: a torn tail is skipped,
// and replaying a journal the snapshot already holds (a crash between the two) changes nothing.
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const fresh = (): IotState => ({ twins: new TwinStore(), c2d: new C2dQueues(50, 3_600_000), seen: new Set() });

function summary(s: IotState) {
  return {
    seen: [...s.seen],
    pending: s.c2d.pending('d1').map((m) => [m.messageId, m.payload.toString(), m.expiresAt]),
    twin: s.twins.get('d1'),
    dupOfCompleted: s.c2d.enqueue('d1', 'm-done', Buffer.from('x'), {}, 1_000).ok,
  };
}

describe('IoT Hub endpoint state store', () => {
  it('replays the journal after a crash, skips a torn last line, and replaying twice changes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aerie-hub-iothub-store-'));
    dirs.push(dir);
    const state = fresh();
    const store = await IotHubStore.open(dir, state);
    state.seen.add('d1');
    state.twins.patchReported('d1', { agentVersion: '1.0.0' });
    state.twins.patchReported('d1', { config: { hz: 2 } });
    await Promise.all([
      store.append({ t: 'seen', d: 'd1' }),
      store.append({ t: 'twin', d: 'd1', s: 'reported', props: state.twins.section('d1', 'reported').props, v: 3 }),
      store.append({ t: 'c2d', d: 'd1', id: 'm1', p: Buffer.from('one').toString('base64'), props: { type: 'command' }, at: 1, exp: 10_000 }),
      store.append({ t: 'c2d', d: 'd1', id: 'm-done', p: Buffer.from('two').toString('base64'), props: {}, at: 1, exp: 10_000 }),
      store.append({ t: 'done', d: 'd1', id: 'm-done', exp: 10_000 }),
      store.append({ t: 'c2d', d: 'd1', id: 'm-expired', p: '', props: {}, at: 1, exp: 5 }),
      store.append({ t: 'drop', d: 'd1', id: 'm-expired' }),
    ]);
    await store.close();
    const journal = readFileSync(join(dir, 'journal.jsonl'), 'utf8');
    // kill -9 in the middle of an append.
    appendFileSync(join(dir, 'journal.jsonl'), '{"t":"c2d","d":"d1","id":"m-torn","p":"');

    const second = fresh();
    const s2 = await IotHubStore.open(dir, second);
    await s2.close();
    expect(s2.skipped).toBe(1);
    const expected = {
      seen: ['d1'],
      pending: [['m1', 'one', 10_000]],
      twin: { desired: { $version: 1 }, reported: { agentVersion: '1.0.0', config: { hz: 2 }, $version: 3 } },
      dupOfCompleted: false,
    };
    expect(summary(second)).toEqual(expected);
    // Folded into the snapshot, journal emptied.
    expect(statSync(join(dir, 'journal.jsonl')).size).toBe(0);
    expect(readFileSync(join(dir, 'state.json'), 'utf8')).toContain('"m1"');

    // A crash after the snapshot's rename but before the journal's truncation: both hold it all.
    writeFileSync(join(dir, 'journal.jsonl'), journal);
    const third = fresh();
    await (await IotHubStore.open(dir, third)).close();
    expect(summary(third)).toEqual(expected);
  });
});
