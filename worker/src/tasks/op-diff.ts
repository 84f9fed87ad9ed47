/**
 * Op `op-diff` (operator problems): [Σ(F_i(u) − F_i(v)), components] on the same components in
 * one call (what PAGE/SARAH-type estimators need). The shipped operators are affine, so this is
 * the linear part applied to u − v.
 */
import { applyOperator, operatorDim } from './operator.js';
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
  const u = input.points[0]!;
  const v = input.points[1]!;
  const delta = new Float64Array(u.length);
  for (let j = 0; j < u.length; j++) delta[j] = u[j]! - v[j]!;
  const out = new Float64Array(operatorDim(o) + 1);
  applyOperator(o, input.shard, delta, input.indices, false, out);
  return out;
}
