/** Op `op-eval` (operator problems): [Σ F_i(u), components] over a shard's selected components. */
import { bilinearApply } from '../kernels/cpu/bilinear.js';
import type { TaskInput, TaskOutput } from './protocol.js';
import { checkInput } from './validate.js';

export default function opEvalTask(input: TaskInput): TaskOutput {
  const bad = checkInput(input, 1);
  if (bad !== null) return bad;
  const g = input.game;
  if (g === null || input.shard.matrix.kind !== 'dense') {
    return {
      ok: false,
      code: 'INVALID_ARGUMENT',
      message: 'op-eval needs an operator problem (problem.kind: bilinear-game)',
      retryable: false,
    };
  }
  const out = new Float64Array(2 * g.m + 1);
  bilinearApply(g, input.shard.matrix, input.points[0]!, input.indices, true, out);
  return out;
}
