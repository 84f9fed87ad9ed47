/**
 * DRO logistic regression with χ²-penalised sample weights (spec §6b), checked against a
 * solution reached by a different route, here in the test: for fixed x the inner maximiser is
 * q*(x) = Π_Q(1 + ℓ(x)/ρ) in closed form, so Φ(x) = max_q ψ(x, q) is smooth and λ-strongly convex
 * with ∇Φ(x) = (1/n)Σ q*_i(x)∇ℓ_i(x) + λx (Danskin); gradient descent with backtracking takes it
 * to ‖∇Φ‖ ≤ 1e-11, giving u* = (x*, q*(x*)). The simplex projection here is by bisection, not the
 * coordinator's sort-based one.
 */
import { describe, expect, it } from 'vitest';
import { runEmbedded } from '@optfleet/cli';
import { validateJobSpec } from '@optfleet/proto';
import { droShard } from '@optfleet/worker';

const n = 200;
const d = 10;
const lambda = 0.01;
const rho = 1;
const SEED = 4;

function logistic(m: number): number {
  return m > 0 ? Math.log1p(Math.exp(-m)) : -m + Math.log1p(Math.exp(m));
}

/** Projection onto {q ≥ 0, Σq = n} by bisection on the threshold. */
function projectScaledSimplex(v: Float64Array): Float64Array {
  let lo = Math.min(...v) - n;
  let hi = Math.max(...v);
  for (let it = 0; it < 200; it++) {
    const mid = (lo + hi) / 2;
    let s = 0;
    for (const x of v) s += Math.max(x - mid, 0);
    if (s > n) lo = mid;
    else hi = mid;
  }
  const theta = (lo + hi) / 2;
  return v.map((x) => Math.max(x - theta, 0));
}

describe('DRO logistic regression (operator problem over ℝ^d × n·Δ)', () => {
  const data = droShard(SEED, d, 0.1, 0, 0, n);
  const X = data.matrix.kind === 'dense' ? data.matrix.x : new Float64Array(0);
  const y = data.y;
  const margins = (x: Float64Array): Float64Array =>
    Float64Array.from({ length: n }, (_, i) => y[i]! * X.subarray(i * d, (i + 1) * d).reduce((s, v, j) => s + v * x[j]!, 0));
  const qStar = (x: Float64Array): Float64Array => projectScaledSimplex(margins(x).map((m) => 1 + logistic(m) / rho));
  const phi = (x: Float64Array): { value: number; grad: Float64Array } => {
    const m = margins(x);
    const q = qStar(x);
    const grad = new Float64Array(d);
    let value = 0;
    let qq = 0;
    for (let i = 0; i < n; i++) {
      value += (q[i]! * logistic(m[i]!)) / n;
      qq += (q[i]! - 1) ** 2;
      const c = (q[i]! * -y[i]!) / (1 + Math.exp(m[i]!)) / n;
      for (let j = 0; j < d; j++) grad[j] = grad[j]! + c * X[i * d + j]!;
    }
    let xx = 0;
    for (let j = 0; j < d; j++) {
      grad[j] = grad[j]! + lambda * x[j]!;
      xx += x[j]! ** 2;
    }
    return { value: value - (rho / (2 * n)) * qq + (lambda / 2) * xx, grad };
  };

  // Reference: gradient descent on Φ with a fixed step below 2/L_Φ (L_Φ ≲ max‖a_i‖²·max q_i/4 + λ
  // ≈ 4 here). Fixed steps compare only gradients, so they keep converging where a line search on
  // Φ values would stall at float64 noise.
  let x = new Float64Array(d);
  let cur = phi(x);
  let iterations = 0;
  for (; iterations < 30_000 && Math.hypot(...cur.grad) >= 5e-12; iterations++) {
    x = x.map((v, j) => v - 0.25 * cur.grad[j]!);
    cur = phi(x);
  }
  const xStar = x;
  const q = qStar(xStar);

  it('the reference reached ‖∇Φ‖ ≤ 1e-11, and its weights favour the misclassified samples', () => {
    expect(Math.hypot(...phi(xStar).grad)).toBeLessThan(1e-11);
    expect(q.reduce((s, v) => s + v, 0)).toBeCloseTo(n, 9);
    const m = margins(xStar);
    // Misclassified samples (negative margin) carry more weight than well-classified ones.
    const mis = [...m.keys()].filter((i) => m[i]! < 0);
    const ok = [...m.keys()].filter((i) => m[i]! > 1);
    const mean = (ix: number[]): number => ix.reduce((s, i) => s + q[i]!, 0) / ix.length;
    expect(mean(mis)).toBeGreaterThan(mean(ok));
  });

  for (const [label, algorithm, target, tol] of [
    ['eg', { name: 'eg', stepSize: 0.5 }, 1e-9, 1e-6],
    // EAG's anchored O(1/k) rate: residual 5e-4 in the budget; with μ = min(λ, ρ/n) = 0.005 that bounds the distance by about 0.1.
    ['eag', { name: 'eag', stepSize: 0.5 }, 5e-4, 0.2],
  ] as const) {
    it(`${label} reaches the reference saddle point u* = (x*, q*) (‖u − u*‖ ≤ ${tol})`, async () => {
      const spec = validateJobSpec({
        name: `dro-${label}`,
        seed: SEED,
        shards: 4,
        problem: { kind: 'dro-logistic', l2: lambda, rho, data: { source: 'synthetic', n, d } },
        algorithm,
        stop: { residual: target, maxRounds: 60_000 },
      });
      const doc = await runEmbedded({ spec, workers: 1, transport: 'inprocess' });
      expect(doc.status, JSON.stringify(doc.error)).toBe('SUCCEEDED');
      const u = doc.final!.x;
      expect(u).toHaveLength(d + n);
      // q stays in n·Δ.
      expect(u.slice(d).every((v) => v >= 0)).toBe(true);
      expect(Math.abs(u.slice(d).reduce((s, v) => s + v, 0) - n)).toBeLessThan(1e-9);
      const dist = Math.hypot(...u.slice(0, d).map((v, j) => v - xStar[j]!), ...u.slice(d).map((v, i) => v - q[i]!));
      expect(dist).toBeLessThanOrEqual(tol);
    });
  }
});
