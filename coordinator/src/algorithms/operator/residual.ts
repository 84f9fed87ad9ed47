/** Operator problems: F(u) = (1/n)Σ F_i(u) from an `op-eval` sum, and the residual ‖F(u)‖. */
import type { ProblemInfo } from '../driver.js';
import { norm2 } from '../finite-sum/objective.js';

/** F(u) from a reduced op-eval sum [ΣF_i (d), count] over all n components. */
export function meanOperator(p: ProblemInfo, sum: Float64Array): Float64Array {
  const F = new Float64Array(p.d);
  const inv = 1 / p.n;
  for (let j = 0; j < p.d; j++) F[j] = sum[j]! * inv;
  return F;
}

export function residual(F: Float64Array): number {
  return norm2(F);
}
