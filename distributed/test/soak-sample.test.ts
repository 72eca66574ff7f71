import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { sampleGroups } from '../src/soak/proc-sample.js';
import { percentile, slope } from '../src/soak/stats.js';

describe('soak statistics', () => {
  it('slope is the least-squares fit, percentile the nearest rank', () => {
    expect(slope([[0, 1], [1, 3], [2, 5], [3, 7]])).toBeCloseTo(2, 10);
    expect(slope([[0, 5], [1, 5], [2, 5]])).toBe(0);
    expect(slope([[1, 2]])).toBe(0);
    expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3);
    expect(percentile([5, 1, 4, 2, 3], 99)).toBe(5);
    expect(percentile([], 50)).toBeNaN();
  });
});

describe('process group sampling', () => {
  it('counts every process of a group, its memory, descriptors and sockets', async () => {
    // A group leader with one child, together holding three listening sockets.
    const script = `
      const net = require('node:net'); const { spawn } = require('node:child_process');
      const kid = spawn(process.execPath, ['-e', "require('node:net').createServer().listen(0, '127.0.0.1', () => console.log('up')); setInterval(() => {}, 1000)"], { stdio: ['ignore', 'pipe', 'inherit'] });
      let n = 0; const up = () => { if (++n === 3) console.log('ready'); };
      kid.stdout.once('data', up);
      net.createServer().listen(0, '127.0.0.1', up); net.createServer().listen(0, '127.0.0.1', up);
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['-e', script], { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
      expect(line).toBe('ready');
      const s = sampleGroups([child.pid!]).get(child.pid!)!;
      expect(s.pids).toBe(2);
      expect(s.sockets).toBeGreaterThanOrEqual(3);
      expect(s.fds).toBeGreaterThan(s.sockets);
      expect(s.rssBytes).toBeGreaterThan(20 * 2 ** 20);
      expect(sampleGroups([999_999_999]).get(999_999_999)).toEqual({ pids: 0, rssBytes: 0, fds: 0, sockets: 0 });
    } finally {
      process.kill(-child.pid!, 'SIGKILL');
    }
  });
});
