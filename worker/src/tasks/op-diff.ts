/**
 * Op `op-diff` (operator problems): [Σ(F_i(u) − F_i(v)), components] on the same components in
 * one call (what PAGE/SARAH-type estimators need). For the affine game this is Σ M_i(u − v).
 */
import { bilinearApply } from '../kernels/cpu/bilinear.js';
import type { TaskInput, TaskOutput } from './protocol.js';
import { checkInput } from './validate.js';

export default function opDiffTask(input: TaskInput): TaskOutput {
  const bad = checkInput(input, 2);
  if (bad !== null) return bad;
  const g = input.game;
  if (g === null || input.shard.matrix.kind !== 'dense') {
    return {
      ok: false,
      code: 'INVALID_ARGUMENT',
      message: 'op-diff needs an operator problem (problem.kind: bilinear-game)',
      retryable: false,
    };
  }
  const u = input.points[0]!;
  const v = input.points[1]!;
  const delta = new Float64Array(u.length);
  for (let j = 0; j < u.length; j++) delta[j] = u[j]! - v[j]!;
  const out = new Float64Array(2 * g.m + 1);
  bilinearApply(g, input.shard.matrix, delta, input.indices, false, out);
  return out;
}
