/**
 * Sticky per-shard state each op needs, allocated by the ShardHost (on the event-loop thread, in
 * SharedArrayBuffers) before the op first runs: pool threads can write into shared memory but
 * cannot create state the host would see.
 */
import type { Op } from '@optfleet/proto';

export interface StateSlot {
  readonly name: string;
  /** Length for a shard of `rows` rows. */
  length(rows: number): number;
}

/** SAGA's table of per-row loss slopes, and a 1-element "initialised" flag. */
export const SAGA_ALPHA: StateSlot = { name: 'saga.alpha', length: (rows) => rows };
export const SAGA_READY: StateSlot = { name: 'saga.ready', length: () => 1 };

export const OP_STATE: Record<Op, readonly StateSlot[]> = {
  'loss-grad': [],
  'grad-diff': [],
  'saga-init': [SAGA_ALPHA, SAGA_READY],
  'saga-step': [SAGA_ALPHA, SAGA_READY],
  'op-eval': [],
  'op-diff': [],
};
