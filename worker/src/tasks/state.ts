/**
 * Sticky per-shard state each op needs, allocated by the ShardHost (on the event-loop thread, in
 * SharedArrayBuffers) before the op first runs: pool threads can write into shared memory but
 * cannot create state the host would see.
 */
import type { JobSpec, Op } from '@optfleet/proto';
import type { ShardData } from '../shards/shard-data.js';

export interface StateSlot {
  readonly name: string;
  /** Length for this shard of this job. */
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

export const OP_STATE: Record<Op, readonly StateSlot[]> = {
  'loss-grad': [],
  'grad-diff': [],
  'saga-init': [SAGA_ALPHA, SAGA_READY],
  'saga-step': [SAGA_ALPHA, SAGA_READY],
  'op-eval': [],
  'op-diff': [],
  'token-walk': [SRRW_INTERIOR],
};
