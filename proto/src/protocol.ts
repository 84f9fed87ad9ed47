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
 * - `mbbo-step` (multi-block bilevel, rows = lower-level blocks) at x_t = points[0], x_{t−1} = points[1]
 *   with parameters points[2] (see `MBBO_STEP_PARAMS`): on each listed block draws its mini-batches,
 *   updates the block's sticky state (y_i, trackers, MSVR memory) and returns
 *   [Σ_i (G_i^new − (1−β)·G_i^old) (d values, the implicit part −∇²_xy g·w only), sample-oracle evaluations]
 * - `mbbo-eval` at points[0] with parameters points[1] (see `MBBO_EVAL_PARAMS`), read-only: per block the
 *   exact y_i*(x), u_i*(x) and returns [Σ_i −∇²_xy g_i·u_i* (d values), Σ_i f_i(y_i*), Σ_i ‖y_i − y_i*‖²,
 *   Σ_i tracker error² (‖H_i − A_i‖_F² for v1, ‖u_i − u_i*‖² for v2), blocks evaluated]
 */
export const OPS = [
  'loss-grad',
  'grad-diff',
  'saga-init',
  'saga-step',
  'op-eval',
  'op-diff',
  'token-walk',
  'mbbo-step',
  'mbbo-eval',
] as const;
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
  'mbbo-step': 3,
  'mbbo-eval': 2,
};

/**
 * How many of an op's points (the last ones) are parameter vectors rather than iterates: their
 * length is free (≤ `MAX_OP_PARAMS`), so op settings travel without a protobuf change.
 */
export const OP_PARAM_POINTS: Record<Op, number> = {
  'loss-grad': 0,
  'grad-diff': 0,
  'saga-init': 0,
  'saga-step': 0,
  'op-eval': 0,
  'op-diff': 0,
  'mbbo-step': 1,
  'mbbo-eval': 1,
  // token-walk's points are token records and token parameters, checked by its task.
  'token-walk': 0,
};

/** Largest parameter point. */
export const MAX_OP_PARAMS = 64;

/** Slots of the `mbbo-step` parameter point (indices into points[2]). */
export const MBBO_STEP_PARAMS = {
  /** Iteration t (the key of every mini-batch draw). */
  t: 0,
  /** 0 stoch-bilevel, 1 bsvrb-v1, 2 bsvrb-v2. */
  method: 1,
  /** Samples per sampled block (≥ n: the full batch). */
  B: 2,
  alpha: 3,
  gamma: 4,
  /** β of this step (1 at t = 0: z_1 = Ḡ_0^new). */
  beta: 5,
  tau: 6,
  tauU: 7,
  /** 1: every block's y (and u) moves every iteration (applied lazily, exactly); 0: sampled blocks only. */
  fullUpdate: 8,
  /** v1 projection interval [hMin, hMax] of the Hessian estimate's eigenvalues. */
  hMin: 9,
  hMax: 10,
  /** v2 radius of the u ball. */
  uBound: 11,
  length: 12,
} as const;

/** Slots of the `mbbo-eval` parameter point. */
export const MBBO_EVAL_PARAMS = { t: 0, method: 1, tau: 2, tauU: 3, fullUpdate: 4, uBound: 5, length: 6 } as const;

/** Length of an op's per-shard result vector for d features (token-walk: the token block's length + 3 counters). */
export function opResultLength(op: Op, d: number, points?: readonly Float64Array[]): number {
  if (op === 'token-walk') return (points?.[0]?.length ?? 0) + TOKEN_TRAILER;
  if (op === 'mbbo-eval') return d + 4;
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
