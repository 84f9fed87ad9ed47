/**
 * The block step and the exact evaluation against closed forms computed here from the raw block
 * data (aggregate matrices and Gaussian elimination, not the kernels' Cholesky/Newton path):
 * - MBBO spec §4(a) check 2, the exact-tracker identity: with y_i = y_i*(x), H_i = A_i (v1) or
 *   u_i = u_i*(x) (v2), full batches, every block and β = 1, the blocks' G_i average to ∇F(x)
 *   (relative error ≤ 1e-12: both sides are O(d·d_y·n) sums of the same numbers in other orders);
 * - mbbo-eval returns the same ∇F, F and zero tracking errors at the exact trackers;
 * - the lazy catch-up of update: 'all' is bit-identical to moving every block every iteration.
 */
import { describe, expect, it } from 'vitest';
import { KeyedRng, MBBO_EVAL_PARAMS, MBBO_STEP_PARAMS, validateJobSpec, type BilevelProblemSpec } from '@optfleet/proto';
import { blockWidth, lowerStride, mbboProblem, mbboShard, upperStride, type MbboProblem } from '../../shards/mbbo.js';
import { sharedF64, type ShardData } from '../../shards/shard-data.js';
import { blockState, catchUp, mbboStep } from './mbbo-step.js';
import { mbboEval } from './mbbo-eval.js';

/** Solves A x = b (p×p, row-major) by Gaussian elimination with partial pivoting. */
function gaussSolve(A0: Float64Array, b0: Float64Array, p: number): Float64Array {
  const A = A0.slice();
  const b = b0.slice();
  for (let c = 0; c < p; c++) {
    let piv = c;
    for (let r = c + 1; r < p; r++) if (Math.abs(A[r * p + c]!) > Math.abs(A[piv * p + c]!)) piv = r;
    for (let k = 0; k < p; k++) [A[c * p + k], A[piv * p + k]] = [A[piv * p + k]!, A[c * p + k]!];
    [b[c], b[piv]] = [b[piv]!, b[c]!];
    for (let r = c + 1; r < p; r++) {
      const f = A[r * p + c]! / A[c * p + c]!;
      for (let k = c; k < p; k++) A[r * p + k] = A[r * p + k]! - f * A[c * p + k]!;
      b[r] = b[r]! - f * b[c]!;
    }
  }
  const x = new Float64Array(p);
  for (let r = p - 1; r >= 0; r--) {
    let s = b[r]!;
    for (let k = r + 1; k < p; k++) s -= A[r * p + k]! * x[k]!;
    x[r] = s / A[r * p + r]!;
  }
  return x;
}

interface Closed {
  A: Float64Array;
  ys: Float64Array;
  us: Float64Array;
  /** The block's implicit hypergradient term −∇²_xy g·u* (d). */
  G: Float64Array;
  f: number;
}

/** Closed forms of block at offset `off` (spec §4(a) aggregates; §4(a′) for ridge). */
function closedForm(p: MbboProblem, X: Float64Array, off: number, x: Float64Array): Closed {
  const { dy, d, db, n, nf } = p;
  const ls = lowerStride(p);
  const A = new Float64Array(dy * dy);
  const rhs = new Float64Array(dy); // B x + c (quadratic) or Xᵀt/n (ridge)
  const Bm = new Float64Array(dy * db); // (1/n)Σ a bᵀ
  for (let j = 0; j < n; j++) {
    const o = off + j * ls;
    let bx = 0;
    for (let l = 0; l < db; l++) bx += X[o + dy + l]! * x[l]!;
    const c = X[o + dy + db]!;
    for (let a = 0; a < dy; a++) {
      for (let b = 0; b < dy; b++) A[a * dy + b] = A[a * dy + b]! + (X[o + a]! * X[o + b]!) / n;
      rhs[a] = rhs[a]! + (X[o + a]! * (bx + c)) / n;
      for (let l = 0; l < db; l++) Bm[a * db + l] = Bm[a * db + l]! + (X[o + a]! * X[o + dy + l]!) / n;
    }
  }
  for (let a = 0; a < dy; a++) A[a * dy + a] = A[a * dy + a]! + (p.kind === 'mbbo-ridge' ? Math.exp(x[a]!) : p.mu);
  const ys = gaussSolve(A, rhs, dy);
  const us0 = new Float64Array(dy);
  const base = off + n * ls;
  let f = 0;
  for (let k = 0; k < nf; k++) {
    const o = base + k * upperStride(p);
    let r = -X[o + dy]!;
    for (let a = 0; a < dy; a++) r += X[o + a]! * ys[a]!;
    f += (0.5 * r * r) / nf;
    for (let a = 0; a < dy; a++) us0[a] = us0[a]! + (r * X[o + a]!) / nf;
  }
  const us = gaussSolve(A, us0, dy);
  const G = new Float64Array(d);
  if (p.kind === 'mbbo-ridge') for (let k = 0; k < d; k++) G[k] = -Math.exp(x[k]!) * ys[k]! * us[k]!;
  else for (let l = 0; l < d; l++) for (let a = 0; a < dy; a++) G[l] = G[l]! + Bm[a * db + l]! * us[a]!; // B_iᵀu*
  return { A, ys, us, G, f };
}

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / den);
}

function build(
  problem: Record<string, unknown>,
  algorithm: string,
): { p: MbboProblem; shard: ShardData; state: Record<string, Float64Array> } {
  const spec = validateJobSpec({ name: 't', seed: 8, problem, algorithm: { name: algorithm, I: 1 } });
  const ps = spec.problem as BilevelProblemSpec;
  const p = mbboProblem(ps, spec.seed);
  const shard = mbboShard(ps, p, 8, 0, 0, p.m);
  const v1 = algorithm === 'bsvrb-v1';
  const m = p.m;
  const dy = p.dy;
  const state: Record<string, Float64Array> = {};
  for (const [name, size] of [
    ['mbbo.y', dy],
    ['mbbo.yPrev', dy],
    ['mbbo.v', dy],
    ['mbbo.H', v1 ? dy * dy : 0],
    ['mbbo.HPrev', v1 ? dy * dy : 0],
    ['mbbo.u', v1 ? 0 : dy],
    ['mbbo.uPrev', v1 ? 0 : dy],
    ['mbbo.q', v1 ? 0 : dy],
    ['mbbo.last', 1],
  ] as const)
    state[name] = sharedF64(m * size);
  return { p, shard, state };
}

const problems = {
  'mbbo-quadratic': { kind: 'mbbo-quadratic', data: { source: 'synthetic', m: 4, d: 6, dy: 5, n: 40, nf: 30 } },
  'mbbo-ridge': { kind: 'mbbo-ridge', data: { source: 'synthetic', m: 4, d: 5, n: 40, nv: 30 } },
};

function stepParams(t: number, method: number, B: number, beta: number, full: boolean): Float64Array {
  const P = MBBO_STEP_PARAMS;
  const a = new Float64Array(P.length);
  a[P.t] = t;
  a[P.method] = method;
  a[P.B] = B;
  a[P.alpha] = 0.3;
  a[P.gamma] = 2;
  a[P.beta] = beta;
  a[P.tau] = 0.05;
  a[P.tauU] = 0.05;
  a[P.fullUpdate] = full ? 1 : 0;
  a[P.hMin] = 1e-3;
  a[P.hMax] = 1e3;
  a[P.uBound] = 1e6;
  return a;
}

for (const [name, problem] of Object.entries(problems)) {
  for (const [alg, method] of [
    ['bsvrb-v1', 1],
    ['bsvrb-v2', 2],
  ] as const) {
    describe(`${name}, ${alg}: exact trackers`, () => {
      const { p, shard, state } = build(problem, alg);
      const X = shard.matrix.kind === 'dense' ? shard.matrix.x : new Float64Array(0);
      const rng = new KeyedRng(1, 0, 0, 'exact-test');
      const x = Float64Array.from({ length: p.d }, () => 0.7 * rng.nextNormal());
      const closed = Array.from({ length: p.m }, (_, r) => closedForm(p, X, r * blockWidth(p), x));
      const grad = new Float64Array(p.d);
      for (const c of closed) for (let k = 0; k < p.d; k++) grad[k] = grad[k]! + c.G[k]! / p.m;

      it('the blocks’ G_i with exact trackers, full batches, I = m average to ∇F(x) (≤ 1e-12)', () => {
        const t = 5;
        for (let r = 0; r < p.m; r++) {
          const b = blockState(state, r, p.dy, method === 1);
          b.y.set(closed[r]!.ys);
          b.yPrev.set(closed[r]!.ys);
          if (method === 1) {
            b.H.set(closed[r]!.A);
            b.HPrev.set(closed[r]!.A);
          } else {
            b.u.set(closed[r]!.us);
            b.uPrev.set(closed[r]!.us);
          }
          state['mbbo.last']![r] = t; // sampled at t − 1
        }
        const out = new Float64Array(p.d + 1);
        const all = Uint32Array.from({ length: p.m }, (_, i) => i);
        const r = mbboStep(p, shard, state, x, x, stepParams(t, method, p.n + p.nf, 1, false), all, out);
        expect(typeof r).toBe('number');
        expect(
          relErr(
            out.subarray(0, p.d).map((v) => v / p.m),
            grad,
          ),
        ).toBeLessThan(1e-12);
      });

      it('mbbo-eval returns ∇F, F and zero tracking errors at the exact trackers', () => {
        // Fresh state at the exact trackers, not yet moved by a step.
        const { state: st } = build(problem, alg);
        for (let r = 0; r < p.m; r++) {
          const b = blockState(st, r, p.dy, method === 1);
          b.y.set(closed[r]!.ys);
          if (method === 1) b.H.set(closed[r]!.A);
          else b.u.set(closed[r]!.us);
          st['mbbo.last']![r] = 1;
        }
        const P = MBBO_EVAL_PARAMS;
        const params = new Float64Array(P.length);
        params[P.t] = 1;
        params[P.method] = method;
        const out = new Float64Array(p.d + 4);
        expect(mbboEval(p, shard, st, x, params, null, out)).toBeNull();
        expect(
          relErr(
            out.subarray(0, p.d).map((v) => v / p.m),
            grad,
          ),
        ).toBeLessThan(1e-12);
        const F = closed.reduce((s, c) => s + c.f, 0);
        expect(Math.abs(out[p.d]! - F) / F).toBeLessThan(1e-12);
        expect(out[p.d + 1]!).toBeLessThan(1e-24);
        expect(out[p.d + 2]!).toBeLessThan(1e-20);
        expect(out[p.d + 3]).toBe(p.m);
      });
    });
  }
}

describe("update: 'all' — the lazy catch-up equals moving every block every iteration, bit for bit", () => {
  for (const [alg, method] of [
    ['bsvrb-v2', 2],
    ['stoch-bilevel', 0],
  ] as const) {
    it(alg, () => {
      const problem = problems['mbbo-quadratic'];
      const lazy = build(problem, alg);
      const eager = build(problem, alg);
      const { p, shard } = lazy;
      const rng = new KeyedRng(2, 0, 0, 'lazy-test');
      let x = Float64Array.from({ length: p.d }, () => rng.nextNormal());
      let xOld = x.slice();
      const beta = method === 0 ? 1 : 0.5;
      for (let t = 0; t < 12; t++) {
        // Blocks {t mod 4} and, every third iteration, also {(t+2) mod 4}.
        const picked = t % 3 === 0 ? [t % 4, (t + 2) % 4].sort() : [t % 4];
        const blocks = Uint32Array.from(picked);
        const params = stepParams(t, method, 8, t === 0 ? 1 : beta, true);
        if (method === 0) {
          params[MBBO_STEP_PARAMS.alpha] = 1;
          params[MBBO_STEP_PARAMS.gamma] = 0;
        }
        const a = new Float64Array(p.d + 1);
        const b = new Float64Array(p.d + 1);
        mbboStep(p, shard, lazy.state, x, xOld, params, blocks, a);
        mbboStep(p, shard, eager.state, x, xOld, params, blocks, b);
        expect(Array.from(a)).toEqual(Array.from(b));
        // Eager: every touched, unsampled block takes its step now and is marked as moved at t.
        for (let r = 0; r < p.m; r++) {
          const last = eager.state['mbbo.last']!;
          if (picked.includes(r) || last[r] === 0) continue;
          catchUp(blockState(eager.state, r, p.dy, false), 1, 0.05, 0.05, 1e6, false);
          last[r] = t + 1;
        }
        xOld = x;
        x = x.map((v, k) => v - 0.01 * a[k]!);
      }
      // Lazy blocks caught up to iteration 12 equal the eager ones.
      for (let r = 0; r < p.m; r++) {
        const l = blockState(lazy.state, r, p.dy, false);
        const lastT = lazy.state['mbbo.last']![r]! - 1;
        catchUp(l, 12 - 1 - lastT, 0.05, 0.05, 1e6, false);
        const e = blockState(eager.state, r, p.dy, false);
        expect(Array.from(l.y)).toEqual(Array.from(e.y));
        expect(Array.from(l.u)).toEqual(Array.from(e.u));
      }
    });
  }
});

describe('mbbo-eval: the exact ∇F matches central finite differences of the exact F (rel. error ≤ 1e-6)', () => {
  // F(x) = (1/m)Σ f_i(y_i*(x)) + r(x) with r = 0 here (ridge, hyper-cleaning; quadratic's r is the
  // coordinator's). Each F is a fresh Newton solve to ‖∇_y g_i‖ ≤ 1e-12, so F carries ~1e-20 error
  // and the h = 1e-5 central difference ~1e-10 relative.
  const cases = {
    'mbbo-quadratic': problems['mbbo-quadratic'],
    'mbbo-ridge': problems['mbbo-ridge'],
    'mbbo-hyperclean': { kind: 'mbbo-hyperclean', data: { source: 'synthetic', m: 3, features: 3, nTrain: 12, nVal: 10 } },
  };
  for (const [name, problem] of Object.entries(cases)) {
    it(name, () => {
      const { p, shard, state } = build(problem, 'bsvrb-v2');
      const P = MBBO_EVAL_PARAMS;
      const params = new Float64Array(P.length);
      params[P.method] = 2;
      const evalAt = (x: Float64Array): Float64Array => {
        const out = new Float64Array(p.d + 4);
        expect(mbboEval(p, shard, state, x, params, null, out)).toBeNull();
        return out;
      };
      const rng = new KeyedRng(3, 0, 0, 'fd-eval');
      const x = Float64Array.from({ length: p.d }, () => 0.5 * rng.nextNormal());
      const grad = evalAt(x).subarray(0, p.d);
      const h = 1e-5;
      const fd = new Float64Array(p.d);
      for (let k = 0; k < p.d; k++) {
        const xp = x.slice();
        const xm = x.slice();
        xp[k] = xp[k]! + h;
        xm[k] = xm[k]! - h;
        fd[k] = (evalAt(xp)[p.d]! - evalAt(xm)[p.d]!) / (2 * h);
      }
      expect(relErr(grad, fd)).toBeLessThan(1e-6);
    });
  }
});
