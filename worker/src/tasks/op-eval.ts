/** Op `op-eval` (operator problems): [Σ F_i(u), components] over a shard's selected components. */
import { applyOperator, operatorDim } from './operator.js';
import type { TaskInput, TaskOutput } from './protocol.js';
import { checkInput } from './validate.js';

export default function opEvalTask(input: TaskInput): TaskOutput {
  const bad = checkInput(input, 1);
  if (bad !== null) return bad;
  const o = input.operator;
  if (o === null)
    return {
      ok: false,
      code: 'INVALID_ARGUMENT',
      message: 'op-eval needs an operator problem (bilinear-game, matrix-game)',
      retryable: false,
    };
  const out = new Float64Array(operatorDim(o) + 1);
  applyOperator(o, input.shard, input.points[0]!, input.indices, true, out);
  return out;
}
