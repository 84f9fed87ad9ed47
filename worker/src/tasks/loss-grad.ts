/** Op `loss-grad`: [Σ∇ℓ_i(w), Σℓ_i, rows] over a shard's selected rows. */
import { lossGrad } from '../kernels/cpu/fused.js';
import type { TaskInput, TaskOutput } from './protocol.js';
import { checkInput } from './validate.js';

export default function lossGradTask(input: TaskInput): TaskOutput {
  const bad = checkInput(input, 1);
  if (bad !== null) return bad;
  const d = input.shard.matrix.cols;
  const out = new Float64Array(d + 2);
  lossGrad(input.loss, input.shard.matrix, input.shard.y, input.points[0]!, input.indices, out);
  return out;
}
