/**
 * Maximum-cardinality bipartite matching (Hopcroft & Karp, "An n^5/2 algorithm for maximum
 * matchings in bipartite graphs", SIAM J. Comput. 2(4), 1973) on a CSR graph: BFS layers from
 * the free rows, then vertex-disjoint shortest augmenting paths by DFS, until none is left.
 * The DFS is iterative so a long alternating path cannot overflow the stack.
 */
export function hopcroftKarp(rows: number, cols: number, rowStart: Int32Array, col: Int32Array): { rowToCol: Int32Array; colToRow: Int32Array; size: number } {
  const rowToCol = new Int32Array(rows).fill(-1);
  const colToRow = new Int32Array(cols).fill(-1);
  let size = 0;
  // Greedy start: most rows match along their first free edge.
  for (let i = 0; i < rows; i++) {
    for (let e = rowStart[i]!; e < rowStart[i + 1]!; e++) {
      const j = col[e]!;
      if (colToRow[j] === -1) { colToRow[j] = i; rowToCol[i] = j; size++; break; }
    }
  }
  const layer = new Int32Array(rows);
  const queue = new Int32Array(rows);
  const cursor = new Int32Array(rows);
  const stack = new Int32Array(rows);
  const INF = 0x3fffffff;
  for (;;) {
    let qh = 0;
    let qt = 0;
    for (let i = 0; i < rows; i++) {
      if (rowToCol[i] === -1) { layer[i] = 0; queue[qt++] = i; } else layer[i] = INF;
    }
    let found = false;
    while (qh < qt) {
      const i = queue[qh++]!;
      for (let e = rowStart[i]!; e < rowStart[i + 1]!; e++) {
        const r = colToRow[col[e]!]!;
        if (r === -1) found = true;
        else if (layer[r] === INF) { layer[r] = layer[i]! + 1; queue[qt++] = r; }
      }
    }
    if (!found) return { rowToCol, colToRow, size };
    for (let i = 0; i < rows; i++) cursor[i] = rowStart[i]!;
    for (let root = 0; root < rows; root++) {
      if (rowToCol[root] !== -1) continue;
      let depth = 0;
      stack[0] = root;
      while (depth >= 0) {
        const i = stack[depth]!;
        let advanced = false;
        while (cursor[i]! < rowStart[i + 1]!) {
          const j = col[cursor[i]!]!;
          const r = colToRow[j]!;
          if (r === -1) {
            // Augment along the stack: each row takes the column its cursor points at.
            for (let k = depth; k >= 0; k--) {
              const ri = stack[k]!;
              const cj = col[cursor[ri]!]!;
              colToRow[cj] = ri;
              rowToCol[ri] = cj;
            }
            size++;
            depth = -1;
            advanced = true;
            break;
          }
          if (layer[r] === layer[i]! + 1) { stack[++depth] = r; advanced = true; break; }
          cursor[i]! += 1;
        }
        if (depth < 0) break;
        if (!advanced) {
          layer[i] = INF; // dead end for this phase
          depth--;
          if (depth >= 0) cursor[stack[depth]!]! += 1;
        }
      }
    }
  }
}
