/**
 * Undirected agent graphs in CSR form, shared by the coordinator (partition, theory) and the
 * workers (walk kernels), so both build the same graph from the job spec alone.
 */
import { invalidArgument } from '../errors.js';

/** An undirected simple graph: neighbours of i are adj[ptr[i] .. ptr[i+1]), ascending. */
export interface Graph {
  readonly n: number;
  readonly ptr: Int32Array;
  readonly adj: Int32Array;
  /** Undirected edges. */
  readonly edges: number;
  /** Optional planar positions (x0, y0, x1, y1, …) for spatial partitions and position-dependent data. */
  readonly pos: Float64Array | null;
}

/**
 * Builds a CSR graph from an edge list (pairs in `a`, `b`). Duplicate edges are merged; a self-loop
 * is an error (the base chains add their own holding probability). `where` names the source.
 */
export function graphFromEdges(n: number, a: Int32Array, b: Int32Array, where: string, pos: Float64Array | null = null): Graph {
  if (n === 0) throw invalidArgument(`${where}: the graph is empty (no nodes)`);
  const deg = new Int32Array(n);
  for (let e = 0; e < a.length; e++) {
    if (a[e] === b[e]) throw invalidArgument(`${where}: self-loop at node ${a[e]} (self-loops are not allowed)`);
    deg[a[e]!]!++;
    deg[b[e]!]!++;
  }
  const ptr = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) ptr[i + 1] = ptr[i]! + deg[i]!;
  const raw = new Int32Array(ptr[n]!);
  const fill = ptr.slice(0, n);
  for (let e = 0; e < a.length; e++) {
    raw[fill[a[e]!]!++] = b[e]!;
    raw[fill[b[e]!]!++] = a[e]!;
  }
  // Sort each row and drop duplicates, so neighbour order (and so every walk) is fixed by the graph alone.
  const outPtr = new Int32Array(n + 1);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const row = Array.from(raw.subarray(ptr[i]!, ptr[i + 1]!)).sort((p, q) => p - q);
    for (let k = 0; k < row.length; k++) if (k === 0 || row[k] !== row[k - 1]) out.push(row[k]!);
    outPtr[i + 1] = out.length;
  }
  return { n, ptr: outPtr, adj: Int32Array.from(out), edges: out.length / 2, pos };
}

/** Number of connected components and, when more than one, a node outside node 0's component. */
export function components(g: Graph): { count: number; stray: number } {
  const comp = new Int32Array(g.n).fill(-1);
  const queue = new Int32Array(g.n);
  let count = 0;
  let stray = -1;
  for (let s = 0; s < g.n; s++) {
    if (comp[s] !== -1) continue;
    if (count === 1) stray = s;
    let head = 0;
    let tail = 0;
    queue[tail++] = s;
    comp[s] = count;
    while (head < tail) {
      const i = queue[head++]!;
      for (let e = g.ptr[i]!; e < g.ptr[i + 1]!; e++) {
        const j = g.adj[e]!;
        if (comp[j] === -1) {
          comp[j] = count;
          queue[tail++] = j;
        }
      }
    }
    count++;
  }
  return { count, stray };
}

/** True when the (connected) graph has no odd cycle: a walk without holding would be periodic. */
export function isBipartite(g: Graph): boolean {
  const side = new Int8Array(g.n).fill(-1);
  const queue = new Int32Array(g.n);
  for (let s = 0; s < g.n; s++) {
    if (side[s] !== -1) continue;
    let head = 0;
    let tail = 0;
    queue[tail++] = s;
    side[s] = 0;
    while (head < tail) {
      const i = queue[head++]!;
      for (let e = g.ptr[i]!; e < g.ptr[i + 1]!; e++) {
        const j = g.adj[e]!;
        if (side[j] === -1) {
          side[j] = 1 - side[i]!;
          queue[tail++] = j;
        } else if (side[j] === side[i]) return false;
      }
    }
  }
  return true;
}

/** Throws INVALID_ARGUMENT naming `where` unless the graph is connected. */
export function requireConnected(g: Graph, where: string): void {
  const c = components(g);
  if (c.count > 1) {
    throw invalidArgument(`${where}: the graph is not connected (${c.count} components; node ${c.stray} cannot be reached from node 0)`);
  }
}
