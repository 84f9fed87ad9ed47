/** Op `saga-init`: [Σ∇ℓ_i(w), Σℓ_i, rows] over all rows, storing ℓ'_i(w) in the shard's SAGA table. */
import { sagaInit } from '../kernels/cpu/fused.js';
import type { TaskInput, TaskOutput } from './protocol.js';
import { SAGA_ALPHA, SAGA_READY } from './state.js';
import { checkInput } from './validate.js';

export default function sagaInitTask(input: TaskInput): TaskOutput {
  const bad = checkInput(input, 1);
  if (bad !== null) return bad;
  const alpha = input.state[SAGA_ALPHA.name];
  const ready = input.state[SAGA_READY.name];
  if (alpha === undefined || ready === undefined) {
    return { ok: false, code: 'INTERNAL', message: `saga-init on shard ${input.shard.shard}: state not allocated`, retryable: false };
  }
  if (input.indices !== null) {
    return { ok: false, code: 'INVALID_ARGUMENT', message: 'saga-init runs on every row of a shard, not on a sample', retryable: false };
  }
  const d = input.shard.matrix.cols;
  const out = new Float64Array(d + 2);
  sagaInit(input.loss, input.shard.matrix, input.shard.y, input.points[0]!, alpha, out);
  ready[0] = 1;
  return out;
}
