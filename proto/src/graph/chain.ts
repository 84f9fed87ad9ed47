/**
 * Base chains on an agent graph (spec §1.2), as CSR rows over N(i) ∪ {i} with the self-loop
 * first: the fixed neighbour order every walk kernel iterates, so a trajectory is a function of
 * the graph, the seed and the token alone.
 */
import { invalidArgument } from '../errors.js';
import { isBipartite, type Graph } from './graph.js';

/** How tokens choose their next agent. mhrw/srw are reversible base chains SRRW can repel; nbrw and iid are baselines. */
export type WalkKind = 'mhrw' | 'srw' | 'nbrw' | 'iid';

export interface BaseChain {
  readonly n: number;
  /** Row i is entries [rowPtr[i], rowPtr[i+1]): first the self-loop (col = i), then the neighbours ascending. */
  readonly rowPtr: Int32Array;
  readonly col: Int32Array;
  /** P_ij (MHRW toward uniform μ, or SRW 1/d_i; nbrw/iid keep SRW/uniform rows for reference only). */
  readonly prob: Float64Array;
  /** Target law μ (sums to 1): uniform for mhrw and iid, ∝ degree for srw and nbrw. */
  readonly mu: Float64Array;
  /** Importance weight 1/(N μ_i), so every walk minimises the plain average (1/N) Σ F_i. */
  readonly weight: Float64Array;
}

export function baseChain(g: Graph, walk: WalkKind): BaseChain {
  const n = g.n;
  const rowPtr = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) rowPtr[i + 1] = rowPtr[i]! + 1 + (g.ptr[i + 1]! - g.ptr[i]!);
  const col = new Int32Array(rowPtr[n]!);
  const prob = new Float64Array(rowPtr[n]!);
  const mu = new Float64Array(n);
  const degreeLaw = walk === 'srw' || walk === 'nbrw';
  for (let i = 0; i < n; i++) mu[i] = degreeLaw ? (g.ptr[i + 1]! - g.ptr[i]!) / (2 * g.edges) : 1 / n;
  for (let i = 0; i < n; i++) {
    const di = g.ptr[i + 1]! - g.ptr[i]!;
    let e = rowPtr[i]!;
    col[e] = i;
    const self = e++;
    let out = 0;
    for (let k = g.ptr[i]!; k < g.ptr[i + 1]!; k++, e++) {
      const j = g.adj[k]!;
      const dj = g.ptr[j + 1]! - g.ptr[j]!;
      col[e] = j;
      // MHRW toward uniform μ: propose a uniform neighbour, accept with min(1, d_i/d_j).
      const p = degreeLaw ? 1 / di : Math.min(1 / di, 1 / dj);
      prob[e] = p;
      out += p;
    }
    prob[self] = degreeLaw ? 0 : Math.max(0, 1 - out);
  }
  const weight = Float64Array.from(mu, (m) => 1 / (n * m));
  return { n, rowPtr, col, prob, mu, weight };
}

/**
 * Refuses chains the theory cannot use: a walk that never holds on a bipartite graph is periodic,
 * and SRRW needs a reversible base chain (not nbrw/iid) when α > 0.
 */
export function validateChain(g: Graph, c: BaseChain, walk: WalkKind, alphas: readonly number[]): void {
  if (walk !== 'iid' && isBipartite(g)) {
    let holds = false;
    for (let i = 0; i < c.n && !holds; i++) holds = c.prob[c.rowPtr[i]!]! > 0;
    if (!holds || walk !== 'mhrw') {
      throw invalidArgument(
        `problem.graph: the graph is bipartite, so the ${walk} walk is periodic (no odd cycle and no holding probability); use a non-bipartite graph${walk === 'mhrw' ? '' : ' or walk: mhrw'}`,
      );
    }
  }
  if ((walk === 'nbrw' || walk === 'iid') && alphas.some((a) => a !== 0)) {
    throw invalidArgument(`spec.algorithm.alpha: the ${walk} baseline is not a reversible base chain, so it takes alpha 0 only`);
  }
}
