/** Op `grad-diff`: [Σ(∇ℓ_i(w1) − ∇ℓ_i(w2)), rows] on the same selected rows of a shard. */
import { gradDiff } from '../kernels/cpu/fused.js';
import type { TaskInput, TaskOutput } from './protocol.js';
import { checkInput } from './validate.js';

export default function gradDiffTask(input: TaskInput): TaskOutput {
  const bad = checkInput(input, 2);
  if (bad !== null) return bad;
  const d = input.shard.matrix.cols;
  const out = new Float64Array(d + 1);
  gradDiff(input.loss, input.shard.matrix, input.shard.y, input.points[0]!, input.points[1]!, input.indices, out);
  return out;
}
