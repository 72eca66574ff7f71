/**
 * Linear assignment, exact, on a sparse bipartite graph: rows (jobs) × columns (drones) with
 * only the feasible pairs as edges, and each row free to stay unassigned at `unservedCost`.
 * Shortest augmenting paths with dual potentials, one row at a time (Jonker & Volgenant,
 * "A shortest augmenting path algorithm for dense and sparse linear assignment problems",
 * Computing 38, 1987): Dijkstra over reduced costs, stopped as soon as it reaches a free column,
 * so each augmentation touches only the edges it needs. Every row's private "unserved" column
 * makes "serve as many as possible, then as cheaply as possible" one objective when
 * `unservedCost` exceeds any sum of real costs.
 */
export interface SparseProblem {
  rows: number;
  cols: number;
  /** CSR: the edges of row i are rowStart[i] .. rowStart[i+1]-1. */
  rowStart: Int32Array;
  col: Int32Array;
  cost: Float64Array;
  unservedCost: number;
}

export interface LapResult {
  /** rowToCol[i] = column assigned to row i, or -1 when the row stays unserved. */
  rowToCol: Int32Array;
  total: number;
}

export function solveSparse(pr: SparseProblem): LapResult {
  const { rows, cols, rowStart, col, cost, unservedCost } = pr;
  // Columns 0..cols-1 are real; cols + i is row i's private unserved column.
  const total = cols + rows;
  const colToRow = new Int32Array(total).fill(-1);
  const rowToCol = new Int32Array(rows).fill(-1);
  const u = new Float64Array(rows);
  const v = new Float64Array(total);
  const dist = new Float64Array(total).fill(Infinity);
  const pred = new Int32Array(total);
  const done = new Uint8Array(total);
  const touched: number[] = [];
  const heap = new MinHeap(total);
  for (let f = 0; f < rows; f++) {
    const relax = (i: number, base: number) => {
      const relaxOne = (j: number, c: number) => {
        if (done[j]) return;
        const nd = base + c - u[i]! - v[j]!;
        if (nd < dist[j]!) {
          if (dist[j] === Infinity) touched.push(j);
          dist[j] = nd;
          pred[j] = i;
          heap.push(j, nd);
        }
      };
      for (let e = rowStart[i]!; e < rowStart[i + 1]!; e++) relaxOne(col[e]!, cost[e]!);
      relaxOne(cols + i, unservedCost);
    };
    relax(f, 0);
    const scanned: number[] = [];
    let endj = -1;
    let D = 0;
    while (heap.size > 0) {
      const j = heap.pop();
      if (done[j]) continue;
      done[j] = 1;
      if (colToRow[j] === -1) { endj = j; D = dist[j]!; break; }
      scanned.push(j);
      relax(colToRow[j]!, dist[j]!);
    }
    // Dual update (keeps every reduced cost ≥ 0 and the path's at 0), then flip the path.
    for (const j of scanned) {
      const delta = D - dist[j]!;
      v[j] = v[j]! - delta;
      const i = colToRow[j]!;
      u[i] = u[i]! + delta;
    }
    u[f] = u[f]! + D;
    let j = endj;
    for (;;) {
      const i = pred[j]!;
      const prev = rowToCol[i]!;
      colToRow[j] = i;
      rowToCol[i] = j;
      if (i === f) break;
      j = prev;
    }
    for (const t of touched) { dist[t] = Infinity; done[t] = 0; }
    touched.length = 0;
    heap.clear();
  }
  let sum = 0;
  for (let i = 0; i < rows; i++) {
    const j = rowToCol[i]!;
    if (j >= cols) { rowToCol[i] = -1; sum += unservedCost; continue; }
    for (let e = rowStart[i]!; e < rowStart[i + 1]!; e++) if (col[e] === j) { sum += cost[e]!; break; }
  }
  return { rowToCol, total: sum };
}

/** Binary min-heap of (item, key) with lazy deletion (stale entries are skipped by the caller). */
class MinHeap {
  private items: Int32Array;
  private keys: Float64Array;
  size = 0;
  constructor(capacity: number) {
    this.items = new Int32Array(Math.max(16, capacity));
    this.keys = new Float64Array(Math.max(16, capacity));
  }
  clear(): void { this.size = 0; }
  push(item: number, key: number): void {
    if (this.size === this.items.length) {
      const items = new Int32Array(this.size * 2); items.set(this.items); this.items = items;
      const keys = new Float64Array(this.size * 2); keys.set(this.keys); this.keys = keys;
    }
    let k = this.size++;
    while (k > 0) {
      const parent = (k - 1) >> 1;
      if (this.keys[parent]! <= key) break;
      this.items[k] = this.items[parent]!; this.keys[k] = this.keys[parent]!;
      k = parent;
    }
    this.items[k] = item; this.keys[k] = key;
  }
  pop(): number {
    const top = this.items[0]!;
    const lastItem = this.items[--this.size]!;
    const lastKey = this.keys[this.size]!;
    let k = 0;
    for (;;) {
      let c = 2 * k + 1;
      if (c >= this.size) break;
      if (c + 1 < this.size && this.keys[c + 1]! < this.keys[c]!) c++;
      if (this.keys[c]! >= lastKey) break;
      this.items[k] = this.items[c]!; this.keys[k] = this.keys[c]!;
      k = c;
    }
    this.items[k] = lastItem; this.keys[k] = lastKey;
    return top;
  }
}

/**
 * A second exact solver, independent of the first: the Hungarian method with potentials in
 * O(n³) (Kuhn 1955; Munkres 1957; the row-by-row form of Tomizawa 1971). The benchmark and the
 * tests check that both reach the same optimum on the same instances.
 */
export function solveHungarian(n: number, cost: Float64Array): { rowToCol: Int32Array; total: number } {
  const u = new Float64Array(n + 1);
  const v = new Float64Array(n + 1);
  const p = new Int32Array(n + 1); // p[j] = row (1-based) matched to column j
  const way = new Int32Array(n + 1);
  const minv = new Float64Array(n + 1);
  const used = new Uint8Array(n + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    minv.fill(Infinity);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = p[j0]!;
      let delta = Infinity;
      let j1 = 0;
      const base = (i0 - 1) * n - 1;
      for (let j = 1; j <= n; j++) {
        if (used[j]) continue;
        const cur = cost[base + j]! - u[i0]! - v[j]!;
        if (cur < minv[j]!) { minv[j] = cur; way[j] = j0; }
        if (minv[j]! < delta) { delta = minv[j]!; j1 = j; }
      }
      for (let j = 0; j <= n; j++) {
        if (used[j]) { u[p[j]!] = u[p[j]!]! + delta; v[j] = v[j]! - delta; }
        else minv[j] = minv[j]! - delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0]!;
      p[j0] = p[j1]!;
      j0 = j1;
    } while (j0);
  }
  const rowToCol = new Int32Array(n);
  for (let j = 1; j <= n; j++) rowToCol[p[j]! - 1] = j - 1;
  let total = 0;
  for (let i = 0; i < n; i++) total += cost[i * n + rowToCol[i]!]!;
  return { rowToCol, total };
}
