/**
 * heap-probe — loaded into every node process of a soak run (`--import` in NODE_OPTIONS, which the
 * launcher passes down) to report what /proc cannot: the V8 heap. Every PROBE_EVERY_MS it writes
 * `<SOAK_HEAP_DIR>/<pid>.json` = {t, heapUsed, heapAfterGc, heapTotal, external, rss} (temp file +
 * rename: the soak never reads a torn one). RSS alone cannot tell a leak from V8 growing the heap it
 * reserves (heapTotal); heapUsed is a sawtooth of garbage between collections; heapAfterGc, what
 * is in use right after the latest mark-compact, is the live data — what a leak makes grow. The timer is unref'd: the probe never keeps a process up.
 *
 * The variable is not AERIE_-prefixed: the launcher strips those from what its children inherit.
 * Without it (a process started elsewhere with the same NODE_OPTIONS) the probe does nothing.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';

export const HEAP_DIR_ENV = 'SOAK_HEAP_DIR';
const PROBE_EVERY_MS = 2_000;

/** One look at this process's memory, as the soak reads it back. */
export interface HeapProbe {
  t: number;
  heapUsed: number;
  /** heapUsed just after the latest major GC (mark-compact); null until there was one. */
  heapAfterGc: number | null;
  heapTotal: number;
  external: number;
  rss: number;
}

const dir = process.env[HEAP_DIR_ENV];
if (dir) {
  const file = join(dir, `${process.pid}.json`);
  let heapAfterGc: number | null = null;
  // The observer runs just after the collection, before much is allocated again.
  new PerformanceObserver((list) => {
    if (list.getEntries().some((e) => (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR)) heapAfterGc = process.memoryUsage().heapUsed;
  }).observe({ entryTypes: ['gc'] });
  const write = (): void => {
    const m = process.memoryUsage();
    const probe: HeapProbe = { t: Date.now(), heapUsed: m.heapUsed, heapAfterGc, heapTotal: getHeapStatistics().total_heap_size, external: m.external, rss: m.rss };
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
