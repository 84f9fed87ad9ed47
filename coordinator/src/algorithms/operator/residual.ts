/** Operator problems: F(u) = (1/n)Σ F_i(u) from an `op-eval` sum, and the residual ‖F(u)‖. */
import type { Observation, ProblemInfo } from '../driver.js';
import { norm2 } from '../finite-sum/objective.js';

/** F(u) from a reduced op-eval sum [ΣF_i (d), count] over all n components, plus the problem's exact regulariser at u. */
export function meanOperator(p: ProblemInfo, sum: Float64Array, at: Float64Array): Float64Array {
  const F = new Float64Array(p.d);
  const inv = 1 / p.n;
  for (let j = 0; j < p.d; j++) F[j] = sum[j]! * inv;
  p.geometry?.regularize?.(at, F, true);
  return F;
}

/** (1/b)Σ_{i∈S}(F_i(u) − F_i(v)) from an op-diff sum over b components, with the regulariser's difference. */
export function meanDifference(p: ProblemInfo, sum: Float64Array, b: number, u: Float64Array, v: Float64Array): Float64Array {
  const D = new Float64Array(p.d);
  const inv = 1 / b;
  for (let j = 0; j < p.d; j++) D[j] = sum[j]! * inv;
  const reg = p.geometry?.regularize;
  if (reg !== undefined) {
    const delta = new Float64Array(p.d);
    for (let j = 0; j < p.d; j++) delta[j] = u[j]! - v[j]!;
    reg(delta, D, false);
  }
  return D;
}

export function residual(F: Float64Array): number {
  return norm2(F);
}

/** The observation measures at u: the problem's residual (and gap), ‖F(u)‖ by default. */
export function observe(p: ProblemInfo, u: Float64Array, F: Float64Array, iteration: number): Observation {
  const m = p.geometry?.measure(u, F) ?? { residual: norm2(F) };
  return { x: u.slice(), objective: NaN, gradNorm: m.residual, iteration, ...(m.gap === undefined ? {} : { gap: m.gap }) };
}

/** J_{ηG}: projects in place (identity for unconstrained problems). */
export function project(p: ProblemInfo, v: Float64Array): Float64Array {
  p.geometry?.project(v);
  return v;
}
