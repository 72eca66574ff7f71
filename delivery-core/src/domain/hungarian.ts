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
