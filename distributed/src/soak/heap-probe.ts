/**
 * heap-probe — loaded into every node process of a soak run (`--import` in NODE_OPTIONS, which the
 * launcher passes down) to report what /proc cannot: the V8 heap. Every PROBE_EVERY_MS it writes
 * `<SOAK_HEAP_DIR>/<pid>.json` = {t, heapUsed, heapTotal, external, rss} (temp file + rename: the
 * soak never reads a torn one). RSS alone cannot tell a leak from V8 keeping freed pages or the heap
 * settling; heapUsed after a few GCs can. The timer is unref'd: the probe never keeps a process up.
 *
 * The variable is not AERIE_-prefixed: the launcher strips those from what its children inherit.
 * Without it (a process started elsewhere with the same NODE_OPTIONS) the probe does nothing.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getHeapStatistics } from 'node:v8';

export const HEAP_DIR_ENV = 'SOAK_HEAP_DIR';
const PROBE_EVERY_MS = 2_000;

/** One look at this process's memory, as the soak reads it back. */
export interface HeapProbe {
  t: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  rss: number;
}

const dir = process.env[HEAP_DIR_ENV];
if (dir) {
  const file = join(dir, `${process.pid}.json`);
  const write = (): void => {
    const m = process.memoryUsage();
    const probe: HeapProbe = { t: Date.now(), heapUsed: m.heapUsed, heapTotal: getHeapStatistics().total_heap_size, external: m.external, rss: m.rss };
    try {
      writeFileSync(`${file}.tmp`, JSON.stringify(probe));
      renameSync(`${file}.tmp`, file);
    } catch {
      // the run's directory is gone (the soak ended first): nothing to report to
    }
  };
  write();
  setInterval(write, PROBE_EVERY_MS).unref();
}
