import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DiskSpool, MemorySpool, type Spool } from '../src/index.js';
import { until } from '../../test-support/until.js';

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'aerie-spool-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const limits = { maxBytes: 10_000, statusMaxAgeMs: 60_000, eventMaxAgeMs: 600_000 };
const body = (s: string): Buffer => Buffer.from(s.padEnd(100, '.'));
const text = (b: Buffer): string => b.toString().replace(/\.+$/, '');

const variants: [string, (l: typeof limits) => Spool][] = [
  ['MemorySpool', (l) => new MemorySpool(l)],
  ['DiskSpool', (l) => new DiskSpool(tmp(), l)],
];

for (const [name, make] of variants) {
  describe(`Spool contract: ${name}`, () => {
    it('is a FIFO; ack removes up to an id', () => {
      const s = make(limits);
      for (let i = 0; i < 5; i++) s.append(i === 2 ? 'event' : 'status', body(`m${i}`), 1000 + i);
      expect(s.peek(3).map((r) => [r.kind, text(r.body)])).toEqual([['status', 'm0'], ['status', 'm1'], ['event', 'm2']]);
      s.ack(s.peek(2)[1]!.id);
      expect(s.peek(10).map((r) => text(r.body))).toEqual(['m2', 'm3', 'm4']);
      expect(s.length).toBe(3);
      expect(s.stats).toMatchObject({ appended: 5, forwarded: 2 });
      s.close();
    });

    it('over its size drops the oldest status first and counts it; events are kept', () => {
      const s = make(limits);
      s.append('event', body('e0'), 1);
      for (let i = 0; i < 200; i++) s.append('status', body(`s${i}`), 2 + i);
      expect(s.bytes).toBeLessThanOrEqual(limits.maxBytes);
      const left = s.peek(1000).map((r) => text(r.body));
      expect(left[0]).toBe('e0');
      expect(left.at(-1)).toBe('s199');
      expect(s.stats.dropped.status).toBe(200 - (left.length - 1));
      expect(s.stats.dropped.event).toBe(0);
      s.close();
    });

    it('expires status before events (events are kept longer)', () => {
      const s = make(limits);
      s.append('status', body('old status'), 0);
      s.append('event', body('old event'), 0);
      s.append('status', body('new status'), 100_000);
      s.expire(100_001);
      expect(s.peek(10).map((r) => text(r.body))).toEqual(['old event', 'new status']);
      s.expire(700_000);
      expect(s.peek(10).map((r) => text(r.body))).toEqual([]);
      expect(s.stats.dropped).toEqual({ status: 2, event: 1, result: 0 });
      s.close();
    });
  });
}

describe('DiskSpool durability', () => {
  it('keeps undelivered records across a reopen, forgets delivered ones, and cuts a torn tail', () => {
    const dir = tmp();
    const a = new DiskSpool(dir, limits);
    for (let i = 0; i < 10; i++) a.append(i % 3 ? 'status' : 'event', body(`m${i}`), i);
    a.ack(a.peek(4)[3]!.id);
    a.close();
    const log = readdirSync(dir).find((f) => f.endsWith('.log'))!;
    appendFileSync(join(dir, log), Buffer.from([0x40, 0, 0, 0, 1, 2, 3]));
    const b = new DiskSpool(dir, limits);
    expect(b.peek(100).map((r) => text(r.body))).toEqual(['m4', 'm5', 'm6', 'm7', 'm8', 'm9']);
    b.append('status', body('after'), 11);
    b.close();
    expect(new DiskSpool(dir, limits).peek(100).map((r) => text(r.body)).at(-1)).toBe('after');
  });

  it('loses nothing that was queued when the process is killed with SIGKILL mid-stream', async () => {
    const dir = tmp();
    const spoolJs = fileURLToPath(new URL('../dist/adapters/disk-spool.js', import.meta.url));
    // The child appends as fast as it can (statuses, every tenth an event) and reports each id after append() returned.
    const child = spawn(process.execPath, ['--input-type=module', '-e', `
      const { DiskSpool } = await import(${JSON.stringify(spoolJs)});
      const s = new DiskSpool(${JSON.stringify(dir)}, { maxBytes: 50e6, statusMaxAgeMs: 1e9, eventMaxAgeMs: 1e9 });
      for (let i = 0; ; i++) {
        s.append(i % 10 ? 'status' : 'event', Buffer.from(JSON.stringify({ seq: i })), Date.now());
        process.stdout.write(i + '\\n');
        if (i % 50 === 0) await new Promise((r) => setImmediate(r));
      }`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise((r) => child.once('exit', r));
    await until(() => out.split('\n').length > 2000, 'the child to queue 2000 records');
    child.kill('SIGKILL');
    await exited;
    const reported = out.split('\n').filter((l) => /^\d+$/.test(l)).map(Number);
    const s = new DiskSpool(dir, limits);
    const seqs = s.peek(1e6).map((r) => (JSON.parse(r.body.toString()) as { seq: number }).seq);
    // Every append that returned is on disk, in order; at most the one in flight beyond it.
    expect(seqs.slice(0, reported.length)).toEqual(reported);
    expect(seqs.length - reported.length).toBeLessThanOrEqual(1);
    s.close();
  });
});
