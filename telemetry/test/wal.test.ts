import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openWal } from '../src/adapters/wal.js';
import { createMemoryLogger } from '../src/adapters/stderr-logger.js';
import { ManualClock } from './helpers/manual-clock.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'aerie-tel-wal-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A log whose writer progress the test sets by hand. */
function open(progress = { handed: 0, settled: 0 }) {
  const clock = new ManualClock(0);
  const logger = createMemoryLogger();
  const wal = openWal({ dir, logger, clock, segmentMs: 1000, handed: () => progress.handed, settled: () => progress.settled });
  const taken: [string, string][] = [];
  wal.replay((t, p) => taken.push([t, p.toString()]));
  return { wal, clock, logger, taken, progress };
}
const segments = () => readdirSync(dir).filter((f) => f.endsWith('.wal')).sort();

describe('write-ahead log (adapters/wal.ts)', () => {
  it('replays what a killed process appended, in order, topic and payload intact', () => {
    const a = open();
    for (let i = 0; i < 5; i++) expect(a.wal.append(`fleet/v1/d-${i}/status`, Buffer.from(`payload ${i} é`))).toBe(true);
    a.progress.handed = 5;
    a.clock.advance(1000); // sealed into segment 1; nothing settled, so kept
    a.wal.append('fleet/v1/d-9/status', Buffer.from('after the seal'));
    // no close(): the process "died"
    const b = open();
    expect(b.taken).toEqual([
      ...[0, 1, 2, 3, 4].map((i) => [`fleet/v1/d-${i}/status`, `payload ${i} é`]),
      ['fleet/v1/d-9/status', 'after the seal'],
    ]);
    expect(b.wal.stats()).toMatchObject({ replayed: 6, corrupt: 0 });
    b.wal.close();
  });

  it('deletes a sealed segment only once the writer has settled every point handed over before its seal', () => {
    const a = open();
    a.wal.append('t/1', Buffer.from('x'));
    a.progress.handed = 1;
    a.clock.advance(1000);
    expect(segments()).toHaveLength(1);
    a.wal.append('t/2', Buffer.from('y'));
    a.progress.handed = 2;
    a.clock.advance(1000);
    expect(segments()).toHaveLength(2);
    a.progress.settled = 1;
    a.clock.advance(1000);
    expect(segments()).toHaveLength(1);
    a.progress.settled = 2;
    a.wal.close();
    expect(segments()).toEqual([]);
  });

  it('a truncated tail (kill -9 mid-record) is detected, counted and logged with its code; the records before it are replayed', () => {
    const a = open();
    for (let i = 0; i < 3; i++) a.wal.append('fleet/v1/d/status', Buffer.from(`good ${i}`));
    const [seg] = segments();
    const path = join(dir, seg!);
    const size = readFileSync(path).length;
    a.wal.append('fleet/v1/d/status', Buffer.from('this one is cut'));
    truncateSync(path, size + 12);
    const b = open();
    expect(b.taken.map(([, p]) => p)).toEqual(['good 0', 'good 1', 'good 2']);
    expect(b.wal.stats()).toMatchObject({ replayed: 3, corrupt: 1 });
    expect(b.logger.lines.join('\n')).toMatch(/code=TEL_ERR_WAL_CORRUPT segment=\S+ offset=\d+ replayed=3/);
    // New records go to a new segment, never behind the bad tail.
    b.wal.append('fleet/v1/d/status', Buffer.from('new'));
    expect(segments()).toHaveLength(2);
    b.wal.close();
  });

  it('a flipped byte fails the checksum: the good records before it are replayed, none after', () => {
    const a = open();
    for (let i = 0; i < 4; i++) a.wal.append('fleet/v1/d/status', Buffer.from(`rec ${i}`));
    const path = join(dir, segments()[0]!);
    const buf = readFileSync(path);
    const one = buf.length / 4;
    buf[one * 2 + 12] = buf[one * 2 + 12]! ^ 0xff; // inside the third record's body
    writeFileSync(path, buf);
    const b = open();
    expect(b.taken.map(([, p]) => p)).toEqual(['rec 0', 'rec 1']);
    expect(b.wal.stats()).toMatchObject({ replayed: 2, corrupt: 1 });
    expect(b.logger.lines.join('\n')).toContain('detail="checksum mismatch"');
  });

  it('garbage shorter than a header, and an empty segment, are survived', () => {
    writeFileSync(join(dir, '000000000001.wal'), '');
    appendFileSync(join(dir, '000000000002.wal'), Buffer.from([1, 2, 3]));
    const b = open();
    expect(b.taken).toEqual([]);
    expect(b.wal.stats()).toMatchObject({ replayed: 0, corrupt: 1 });
    b.wal.close();
    expect(segments()).toEqual([]);
  });

  it('an append the disk refuses is counted and logged once with TEL_ERR_WAL_WRITE, never thrown', () => {
    const a = open();
    a.wal.append('t', Buffer.from('first'));
    a.progress.handed = 1;
    rmSync(dir, { recursive: true, force: true });
    writeFileSync(dir, 'not a directory'); // the next segment cannot be created
    a.clock.advance(1000); // seals and closes the open segment
    expect(a.wal.append('t', Buffer.from('a'))).toBe(false);
    expect(a.wal.append('t', Buffer.from('b'))).toBe(false);
    expect(a.wal.stats().failed).toBe(2);
    expect(a.logger.lines.filter((l) => l.includes('append failed code=TEL_ERR_WAL_WRITE'))).toHaveLength(1);
    a.wal.close();
    rmSync(dir, { force: true });
  });
});
