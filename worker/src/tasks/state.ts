/**
 * Sticky per-shard state each op needs, allocated by the ShardHost (on the event-loop thread, in
 * SharedArrayBuffers) before the op first runs: pool threads can write into shared memory but
 * cannot create state the host would see.
 */
import { bilevelShape, type JobSpec, type Op } from '@optfleet/proto';
import type { ShardData } from '../shards/shard-data.js';

export interface StateSlot {
  readonly name: string;
  /** Length for this shard of this job (0: the slot is unused by this job). */
  length(shard: ShardData, spec: JobSpec): number;
}

/** SAGA's table of per-row loss slopes, and a 1-element "initialised" flag. */
export const SAGA_ALPHA: StateSlot = { name: 'saga.alpha', length: (shard) => shard.matrix.rows };
export const SAGA_READY: StateSlot = { name: 'saga.ready', length: () => 1 };

/**
 * SA-SRRW's interior visit entries r_j = log(y_j/μ_j) (spec §5 option B): one block of the
 * shard's interior-node count per token (tokens × α values), zeros = x_0 = μ. Only the token
 * holding the shard reads or writes its block, so the walk stays exact however tokens interleave.
 */
export const SRRW_INTERIOR: StateSlot = {
  name: 'srrw.interior',
  length: (shard, spec) => {
    const alg = spec.algorithm;
    const tokens = alg.name === 'sa-srrw' ? alg.tokens * alg.alpha.length : 0;
    return tokens * (shard.walk?.agents.interior ?? 0);
  },
};
/** d_y of a bilevel job, and whether it tracks Hessians (v1) or u vectors (v2, stoch-bilevel). */
function bilevel(spec: JobSpec): { dy: number; v1: boolean } {
  const p = spec.problem;
  if (p.kind !== 'mbbo-quadratic' && p.kind !== 'mbbo-ridge' && p.kind !== 'mbbo-hyperclean') return { dy: 0, v1: false };
  return { dy: bilevelShape(p).dy, v1: spec.algorithm.name === 'bsvrb-v1' };
}

const perBlock = (name: string, size: (b: { dy: number; v1: boolean }) => number): StateSlot => ({
  name,
  length: (shard, spec) => shard.matrix.rows * size(bilevel(spec)),
});

/**
 * Every block's sticky MBBO state (spec §2.2, §2.3, §5.1), blocks_in_shard × per-block size, so a
 * migration that moves this record moves the blocks' whole algorithm state:
 * y_i, y_i at the previous iteration, the MSVR estimate v_i of ∇_y g_i; v1: H_i and its previous
 * value (d_y² each); v2 / stoch-bilevel: u_i, its previous value and the MSVR estimate q_i of
 * ∇²_yy g_i·u_i − ∇_y f_i; and ℓ_i + 1, the last iteration block i was sampled plus one (0: never).
 */
export const MBBO_Y = perBlock('mbbo.y', (b) => b.dy);
export const MBBO_Y_PREV = perBlock('mbbo.yPrev', (b) => b.dy);
export const MBBO_V = perBlock('mbbo.v', (b) => b.dy);
export const MBBO_H = perBlock('mbbo.H', (b) => (b.v1 ? b.dy * b.dy : 0));
export const MBBO_H_PREV = perBlock('mbbo.HPrev', (b) => (b.v1 ? b.dy * b.dy : 0));
export const MBBO_U = perBlock('mbbo.u', (b) => (b.v1 ? 0 : b.dy));
export const MBBO_U_PREV = perBlock('mbbo.uPrev', (b) => (b.v1 ? 0 : b.dy));
export const MBBO_Q = perBlock('mbbo.q', (b) => (b.v1 ? 0 : b.dy));
export const MBBO_LAST = perBlock('mbbo.last', () => 1);

const MBBO_SLOTS = [MBBO_Y, MBBO_Y_PREV, MBBO_V, MBBO_H, MBBO_H_PREV, MBBO_U, MBBO_U_PREV, MBBO_Q, MBBO_LAST] as const;

export const OP_STATE: Record<Op, readonly StateSlot[]> = {
  'loss-grad': [],
  'grad-diff': [],
  'saga-init': [SAGA_ALPHA, SAGA_READY],
  'saga-step': [SAGA_ALPHA, SAGA_READY],
  'op-eval': [],
  'op-diff': [],
  'token-walk': [SRRW_INTERIOR],
  'mbbo-step': MBBO_SLOTS,
  'mbbo-eval': MBBO_SLOTS,
};
