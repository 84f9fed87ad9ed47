/**
 * Turns reduced shard sums into the regularised finite-sum objective
 * f(w) = (1/n)Σℓ_i(w) + (λ/2)‖w‖² and its gradient.
 */
import type { ProblemInfo } from '../driver.js';

export function norm2(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s);
}

/** From a loss-grad sum [Σ∇ℓ (d), Σℓ, count] over all n rows: {objective, gradient}. */
export function fullObjective(p: ProblemInfo, w: Float64Array, sum: Float64Array): { objective: number; grad: Float64Array } {
  const d = p.d;
  const invN = 1 / p.n;
  const grad = new Float64Array(d);
  let ww = 0;
  for (let j = 0; j < d; j++) {
    grad[j] = sum[j]! * invN + p.l2 * w[j]!;
    ww += w[j]! * w[j]!;
  }
  return { objective: sum[d]! * invN + 0.5 * p.l2 * ww, grad };
}

/** Per-row smoothness constant of the loss: σ' ≤ 1/4 for logistic, 1 for squares. */
export function lossCurvature(kind: ProblemInfo['kind']): number {
  return kind === 'logistic' ? 0.25 : 1;
}

/** b rows drawn uniformly with replacement from [0, n), keyed by (seed, step, purpose). */
export function sampleRows(rng: { nextInt(n: number): number }, n: number, b: number): Uint32Array {
  const rows = new Uint32Array(b);
  for (let k = 0; k < b; k++) rows[k] = rng.nextInt(n);
  return rows;
}

/** b distinct rows of [0, n) (Floyd's algorithm), ascending; b ≤ n. */
export function sampleDistinctRows(rng: { nextInt(n: number): number }, n: number, b: number): Uint32Array {
  const chosen = new Set<number>();
  for (let j = n - b; j < n; j++) {
    const t = rng.nextInt(j + 1);
    chosen.add(chosen.has(t) ? j : t);
  }
  return Uint32Array.from(chosen).sort();
}
