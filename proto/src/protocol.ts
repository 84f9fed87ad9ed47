import { TOKEN_TRAILER } from './graph/token.js';

/**
 * Version of the worker channel protocol; a worker with another version is rejected at Register.
 * 2: shard migration (OpenShards.states, ExportShards, ReleaseShards) and Drain.
 */
export const PROTOCOL_VERSION = 2;

/**
 * Ops a round can run on shards. Each op's per-shard result is a Float64Array reduced by summing:
 * - `loss-grad` at points[0]: [Σ∇ℓ_i (d values), Σℓ_i, rows evaluated]
 * - `grad-diff` at points[0], points[1] on the same rows: [Σ(∇ℓ_i(p0) − ∇ℓ_i(p1)) (d values), rows evaluated]
 * - `saga-init` at points[0]: as `loss-grad`, and stores each row's loss slope ℓ'_i in the shard's
 *   sticky SAGA table (state that stays on the worker between rounds)
 * - `saga-step` at points[0] on distinct rows: [Σ(ℓ'_i(p0) − α_i)·x_i (d values), rows evaluated],
 *   then α_i ← ℓ'_i(p0) in the table
 * - `op-eval` at points[0] (operator problems): [Σ F_i(p0) (d values), components evaluated]
 * - `op-diff` at points[0], points[1] on the same components: [Σ(F_i(p0) − F_i(p1)) (d values), components evaluated]
 * - `token-walk` (graph-token jobs) with points[0] the token records and points[1] the token
 *   parameters (graph/token.ts): each shard advances the tokens on its agents hop by hop while they
 *   stay on its agents; result: the records it advanced (zeros elsewhere) + [hops, crossings, handoffs]
 */
export const OPS = ['loss-grad', 'grad-diff', 'saga-init', 'saga-step', 'op-eval', 'op-diff', 'token-walk'] as const;
export type Op = (typeof OPS)[number];

export function isOp(s: string): s is Op {
  return (OPS as readonly string[]).includes(s);
}

/** Number of points each op takes. */
export const OP_POINTS: Record<Op, number> = {
  'loss-grad': 1,
  'grad-diff': 2,
  'saga-init': 1,
  'saga-step': 1,
  'op-eval': 1,
  'op-diff': 2,
  'token-walk': 2,
};

/** Length of an op's per-shard result vector for d features (token-walk: the token block's length + 3 counters). */
export function opResultLength(op: Op, d: number, points?: readonly Float64Array[]): number {
  if (op === 'token-walk') return (points?.[0]?.length ?? 0) + TOKEN_TRAILER;
  return op === 'loss-grad' || op === 'saga-init' ? d + 2 : d + 1;
}

/** Ops whose points are not iterates of the problem's dimension (their length is checked by the task). */
export function opTakesIterates(op: Op): boolean {
  return op !== 'token-walk';
}

/** Rows [start, end) of shard `s` when n rows are split into `shards` contiguous ranges. */
export function shardRange(n: number, shards: number, s: number): [number, number] {
  return [Math.floor((s * n) / shards), Math.floor(((s + 1) * n) / shards)];
}
