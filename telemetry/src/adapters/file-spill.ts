import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { Point } from '../domain/point.js';
import type { SpillStore } from '../ports.js';

/**
 * Parked batches as one file each (`<id>.json`), written to a temp name and renamed so a crash
 * never leaves half a batch; reopened after a restart, so what was parked is still replayed.
 * Bounded by bytes: past maxBytes, push() refuses and the caller counts the batch as dropped.
 */
export function openFileSpill(dir: string, maxBytes = 512 * 1024 * 1024): SpillStore {
  mkdirSync(dir, { recursive: true });
  const ids: number[] = [];
  const sizes = new Map<number, { bytes: number; points: number }>();
  let bytes = 0;
  let points = 0;
  for (const f of readdirSync(dir)) {
    const m = /^(\d+)\.json$/.exec(f);
    if (!m) continue;
    const id = Number(m[1]);
    const b = statSync(join(dir, f)).size;
    const n = (JSON.parse(readFileSync(join(dir, f), 'utf8')) as unknown[]).length;
    ids.push(id);
    sizes.set(id, { bytes: b, points: n });
    bytes += b;
    points += n;
  }
  ids.sort((a, b) => a - b);
  let nextId = (ids.at(-1) ?? 0) + 1;
  return {
    push(batch) {
      const text = JSON.stringify(batch);
      const b = Buffer.byteLength(text);
      if (bytes + b > maxBytes) return false;
      const id = nextId++;
      const tmp = join(dir, `${id}.tmp`);
      writeFileSync(tmp, text);
      renameSync(tmp, join(dir, `${id}.json`));
      ids.push(id);
      sizes.set(id, { bytes: b, points: batch.length });
      bytes += b;
      points += batch.length;
      return true;
    },
    peek() {
      const id = ids[0];
      if (id === undefined) return null;
      return { id, points: JSON.parse(readFileSync(join(dir, `${id}.json`), 'utf8')) as Point[] };
    },
    remove(id) {
      const i = ids.indexOf(id);
      if (i < 0) return;
      ids.splice(i, 1);
      rmSync(join(dir, `${id}.json`), { force: true });
      const s = sizes.get(id);
      sizes.delete(id);
      if (s) {
        bytes -= s.bytes;
        points -= s.points;
      }
    },
    size: () => points,
    close() {},
  };
}

/** The in-memory twin: same bound, in points rather than bytes. */
export function createMemorySpill(maxPoints = 1_000_000): SpillStore {
  const batches: { id: number; points: Point[] }[] = [];
  let nextId = 1;
  let points = 0;
  return {
    push(batch) {
      if (points + batch.length > maxPoints) return false;
      batches.push({ id: nextId++, points: [...batch] });
      points += batch.length;
      return true;
    },
    peek: () => batches[0] ?? null,
    remove(id) {
      const i = batches.findIndex((b) => b.id === id);
      if (i >= 0) points -= batches.splice(i, 1)[0]!.points.length;
    },
    size: () => points,
    close() {},
  };
}
