/** Op `saga-step`: [Σ(ℓ'_i(w) − α_i)·x_i, rows] on distinct sampled rows, updating α_i in place. */
import { sagaStep } from '../kernels/cpu/fused.js';
import type { TaskInput, TaskOutput } from './protocol.js';
import { SAGA_ALPHA, SAGA_READY } from './state.js';
import { checkInput } from './validate.js';

export default function sagaStepTask(input: TaskInput): TaskOutput {
  const bad = checkInput(input, 1);
  if (bad !== null) return bad;
  const alpha = input.state[SAGA_ALPHA.name];
  const ready = input.state[SAGA_READY.name];
  if (alpha === undefined || ready === undefined || ready[0] !== 1) {
    return {
      ok: false,
      code: 'FAILED_PRECONDITION',
      message: `saga-step on shard ${input.shard.shard} before saga-init`,
      retryable: false,
    };
  }
  const rows = input.indices ?? Uint32Array.from({ length: input.shard.matrix.rows }, (_, i) => i);
  const d = input.shard.matrix.cols;
  const out = new Float64Array(d + 1);
  sagaStep(input.loss, input.shard.matrix, input.shard.y, input.points[0]!, alpha, rows, out);
  return out;
}
