/**
 * Op `op-diff` (operator problems): [Σ(F_i(u) − F_i(v)), components] on the same components in
 * one call (what PAGE/SARAH-type estimators need): the linear part applied to u − v for the affine
 * games, both points evaluated row by row for DRO.
 */
import { applyOperatorDiff, operatorDim } from './operator.js';
import type { TaskInput, TaskOutput } from './protocol.js';
import { checkInput } from './validate.js';

export default function opDiffTask(input: TaskInput): TaskOutput {
  const bad = checkInput(input, 2);
  if (bad !== null) return bad;
  const o = input.operator;
  if (o === null)
    return {
      ok: false,
      code: 'INVALID_ARGUMENT',
      message: 'op-diff needs an operator problem (bilinear-game, matrix-game)',
      retryable: false,
    };
  const out = new Float64Array(operatorDim(o) + 1);
  applyOperatorDiff(o, input.shard, input.points[0]!, input.points[1]!, input.indices, out);
  return out;
}
