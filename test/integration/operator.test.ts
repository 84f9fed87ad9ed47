/**
 * Operator problems (issue 3, spec §6a): the bilinear finite-sum game F_i(z) = M_i z + q_i with
 * F(z) = Mz + q. Each algorithm's last iterate is checked against z* = −M⁻¹q from a linear solve
 * done here, and against the strong-monotonicity bound ‖u − z*‖ ≤ ‖F(u)‖/μ, with F(u) computed
 * here from M and q (not by the worker kernels). Tolerances per algorithm reflect its rate:
 * EG converges linearly on this strongly monotone game; the anchored methods (Halpern,
 * VR-Halpern, EAG) at O(1/k) in the residual, so they get a looser target in a round budget.
 */
import { describe, expect, it } from 'vitest';
import { runEmbedded } from '@optfleet/cli';
import { validateJobSpec } from '@optfleet/proto';
import { bilinearConstants } from '@optfleet/worker';

const SEED = 3;
const m = 5;
const n = 256;
const mu = 1;

/** ‖M⁻¹‖₂ by inverse power iteration (solves with M and Mᵀ). */
function inverseNorm(M: Float64Array, d: number): number {
  const Mt = new Float64Array(d * d);
  for (let r = 0; r < d; r++) for (let c = 0; c < d; c++) Mt[c * d + r] = M[r * d + c]!;
  let v = new Float64Array(d).fill(1 / Math.sqrt(d));
  let s = 0;
  for (let it = 0; it < 200; it++) {
    // w = (MᵀM)⁻¹ v: solve Mᵀ t = v, then M w = t (solve() solves M z = −rhs).
    const t = solve(
      Mt,
      v.map((x) => -x),
    );
    const w = solve(
      M,
      t.map((x) => -x),
    );
    s = Math.sqrt(norm(w));
    const nw = norm(w);
    v = w.map((x) => x / nw);
  }
  return s;
}

/** M (2m×2m, row-major) and q of the mean game. */
function meanGame(mu: number): { M: Float64Array; q: Float64Array } {
  const g = bilinearConstants(SEED, m, mu, 1);
  const d = 2 * m;
  const M = new Float64Array(d * d);
  for (let a = 0; a < m; a++) {
    M[a * d + a] = mu;
    M[(m + a) * d + (m + a)] = mu;
    for (let b = 0; b < m; b++) {
      M[a * d + (m + b)] = g.B[a * m + b]!;
      M[(m + b) * d + a] = -g.B[a * m + b]!;
    }
  }
  return { M, q: g.q };
}

/** Solves M z = −q by Gaussian elimination with partial pivoting. */
function solve(M: Float64Array, q: ArrayLike<number>): Float64Array {
  const d = q.length;
  const A = Array.from({ length: d }, (_, r) => [...M.subarray(r * d, (r + 1) * d), -q[r]!]);
  for (let c = 0; c < d; c++) {
    let piv = c;
    for (let r = c + 1; r < d; r++) if (Math.abs(A[r]![c]!) > Math.abs(A[piv]![c]!)) piv = r;
    [A[c], A[piv]] = [A[piv]!, A[c]!];
    for (let r = c + 1; r < d; r++) {
      const f = A[r]![c]! / A[c]![c]!;
      for (let k = c; k <= d; k++) A[r]![k] = A[r]![k]! - f * A[c]![k]!;
    }
  }
  const z = new Float64Array(d);
  for (let r = d - 1; r >= 0; r--) {
    let s = A[r]![d]!;
    for (let k = r + 1; k < d; k++) s -= A[r]![k]! * z[k]!;
    z[r] = s / A[r]![r]!;
  }
  return z;
}

function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s);
}

describe('operator algorithms on the bilinear game against z* = −M⁻¹q', () => {
  const { M, q } = meanGame(mu);
  const zStar = solve(M, q);
  const d = 2 * m;
  const F = (u: ArrayLike<number>): Float64Array => {
    const out = new Float64Array(d);
    for (let r = 0; r < d; r++) {
      let s = q[r]!;
      for (let c = 0; c < d; c++) s += M[r * d + c]! * u[c]!;
      out[r] = s;
    }
    return out;
  };

  it('the reference solves the mean game', () => {
    expect(norm(F(zStar))).toBeLessThan(1e-12);
  });

  const cases: Array<[string, Record<string, unknown>, number, number]> = [
    // name, algorithm, residual target, round budget
    ['eg', { name: 'eg', stepSize: 0.5 }, 1e-9, 2_000],
    ['halpern', { name: 'halpern', stepSize: 0.5 }, 2e-3, 20_000],
    ['vr-halpern', { name: 'vr-halpern', stepSize: 0.2 }, 2e-3, 40_000],
    ['eag', { name: 'eag', stepSize: 0.3 }, 2e-3, 20_000],
  ];
  for (const [label, algorithm, target, budget] of cases) {
    it(`${label} reaches ‖F(u)‖ ≤ ${target} and u is within ‖F(u)‖/μ of z*`, async () => {
      const spec = validateJobSpec({
        name: `op-${label}`,
        seed: SEED,
        shards: 4,
        problem: { kind: 'bilinear-game', data: { source: 'synthetic', n, m, mu, sigma: 1 } },
        algorithm,
        stop: { residual: target, maxRounds: budget },
      });
      const doc = await runEmbedded({ spec, workers: 1, transport: 'inprocess' });
      expect(doc.status, JSON.stringify(doc.error)).toBe('SUCCEEDED');
      const final = doc.final!;
      expect(final.stopReason).toMatch(/^residual/);
      expect(final.objective).toBeUndefined();
      const u = final.x;
      const r = norm(F(u));
      // The reported residual sums n components whose deviations cancel only up to rounding (~1e-13 here).
      expect(Math.abs(final.residual! - r)).toBeLessThan(1e-9 * r + 1e-12);
      expect(r).toBeLessThanOrEqual(target);
      const dist = norm(u.map((v, j) => v - zStar[j]!));
      expect(dist).toBeLessThanOrEqual((r / mu) * (1 + 1e-9));
      expect(doc.history[0]!.residual).toBeGreaterThan(1);
    });
  }

  it('VR-Halpern spends fewer oracle calls per iteration than the same iteration with full batches', async () => {
    const run = async (fullBatch: boolean) => {
      const spec = validateJobSpec({
        name: 'vrh',
        seed: SEED,
        shards: 4,
        problem: { kind: 'bilinear-game', data: { source: 'synthetic', n, m, mu, sigma: 1 } },
        algorithm: { name: 'vr-halpern', stepSize: 0.2, fullBatch },
        stop: { residual: 0, maxRounds: 2000 },
      });
      return (await runEmbedded({ spec, workers: 1, transport: 'inprocess' })).final!;
    };
    const vr = await run(false);
    const full = await run(true);
    expect(full.oracleCalls).toBe(2000 * n);
    // Expected calls per iteration after warm-up ≈ p·n + (1−p)·2b with b = 16, p = 4/21.
    expect(vr.oracleCalls / 2000).toBeLessThan(0.35 * n);
  });

  it('a diverging step size fails the job with DIVERGED naming the iteration, never NaN in the result', async () => {
    const spec = validateJobSpec({
      name: 'boom',
      seed: SEED,
      problem: { kind: 'bilinear-game', data: { source: 'synthetic', n, m, mu, sigma: 1 } },
      algorithm: { name: 'eg', stepSize: 50 },
      stop: { maxRounds: 5000 },
    });
    const doc = await runEmbedded({ spec, workers: 1, transport: 'inprocess' });
    expect(doc.status).toBe('FAILED');
    expect(doc.error?.code).toBe('DIVERGED');
    expect(doc.error?.message).toMatch(/is (Infinity|-Infinity|NaN) at iteration \d+ \(round \d+\): the iteration diverged/);
    expect(doc.final).toBeUndefined();
  });

  it('vr-halpern-forb (Algorithm 2) solves a monotone, non-cocoercive game (μ = 0)', async () => {
    const g0 = meanGame(0);
    const z0 = solve(g0.M, g0.q);
    const spec = validateJobSpec({
      name: 'forb',
      seed: SEED,
      shards: 4,
      problem: { kind: 'bilinear-game', data: { source: 'synthetic', n, m, mu: 0, sigma: 1 } },
      algorithm: { name: 'vr-halpern-forb' },
      stop: { residual: 2e-3, maxRounds: 80_000 },
    });
    const doc = await runEmbedded({ spec, workers: 1, transport: 'inprocess' });
    expect(doc.status, JSON.stringify(doc.error)).toBe('SUCCEEDED');
    const u = doc.final!.x;
    const Fu = new Float64Array(2 * m);
    for (let r = 0; r < 2 * m; r++) {
      let acc = g0.q[r]!;
      for (let c = 0; c < 2 * m; c++) acc += g0.M[r * 2 * m + c]! * u[c]!;
      Fu[r] = acc;
    }
    const r = norm(Fu);
    expect(r).toBeLessThanOrEqual(2e-3);
    // F(u) = M(u − z*), so ‖u − z*‖ ≤ ‖M⁻¹‖·‖F(u)‖.
    const dist = norm(u.map((v, j) => v - z0[j]!));
    expect(dist).toBeLessThanOrEqual(inverseNorm(g0.M, 2 * m) * r * (1 + 1e-6));
    expect(doc.history.length).toBeGreaterThan(10);
    // The same spec with halpern is refused: μ = 0 is monotone only.
    expect(() => validateJobSpec({ ...spec, algorithm: { name: 'halpern' } })).toThrowError(/halpern needs a cocoercive operator/);
  });

  it('VR-Halpern driftCheck logs ‖F̃ − F(u)‖ at snapshots: rounding-level with b = n, sampling-level with b = ⌈√n⌉', async () => {
    const run = async (batchSize: number) => {
      const spec = validateJobSpec({
        name: 'drift',
        seed: SEED,
        shards: 4,
        problem: { kind: 'bilinear-game', data: { source: 'synthetic', n, m, mu, sigma: 1 } },
        algorithm: { name: 'vr-halpern', stepSize: 0.2, batchSize, driftCheck: true },
        stop: { residual: 0, maxRounds: 400 },
      });
      const doc = await runEmbedded({ spec, workers: 1, transport: 'inprocess' });
      return doc.history.map((h) => h.drift).filter((v): v is number => v !== undefined);
    };
    const exact = await run(n);
    expect(exact.length).toBeGreaterThan(5);
    for (const v of exact) expect(v).toBeLessThan(1e-10);
    const sampled = await run(16);
    expect(sampled.length).toBeGreaterThan(5);
    expect(Math.max(...sampled)).toBeGreaterThan(1e-6);
  });
});
