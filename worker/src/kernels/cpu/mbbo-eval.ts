/**
 * Exact per-block quantities at an upper point x (spec §4(a) item 5), read-only on the sticky
 * state: y_i*(x) by Newton on the full lower objective (to ‖∇_y g_i‖ ≤ 1e-12; the quadratic
 * problems take one step plus one rounding refinement), u_i* = A_i⁻¹∇_y f_i(y_i*), the block's
 * hypergradient implicit term −∇²_xy g_i·u_i*, f_i(y_i*), and the tracking errors of the current
 * trackers (caught up to iteration t in 'all' mode, on copies).
 */
import { MBBO_EVAL_PARAMS as P } from '@optfleet/proto';
import type { ShardData } from '../../shards/shard-data.js';
import { blockRef, type MbboProblem } from '../../shards/mbbo.js';
import { cholesky, choleskySolve } from './linalg.js';
import { allSamples, fValue, gValue, gradYf, gradYg, hessYY, jvpAdd, upperPoint, type BlockRef } from './mbbo-oracles.js';
import { blockState, catchUp } from './mbbo-step.js';

/** Full-batch g_i(x, y). */
function gMean(p: MbboProblem, X: Float64Array, off: BlockRef, x: Float64Array, y: Float64Array): number {
  let s = 0;
  for (let j = 0; j < p.n; j++) s += gValue(p, X, off, j, x, y);
  return s / p.n;
}

/** Exact y*, u* of block `off`, into ys / us (A, L: d_y² scratch). Returns false if A is not positive definite. */
export function exactBlock(
  p: MbboProblem,
  X: Float64Array,
  off: BlockRef,
  x: Float64Array,
  ys: Float64Array,
  us: Float64Array,
  A: Float64Array,
  L: Float64Array,
): boolean {
  const dy = p.dy;
  const pt = upperPoint(p, x);
  const all = allSamples(p.n);
  const g = new Float64Array(dy);
  ys.fill(0);
  // Newton from 0 until ‖∇_y g‖ ≤ 1e-12 or no progress (quadratic lower levels: one step is exact,
  // the second refines rounding). Damped by halving while the full-batch g does not decrease.
  let gnorm = Infinity;
  const trial = new Float64Array(dy);
  for (let step = 0; step < 100; step++) {
    gradYg(p, X, off, all, pt, ys, g);
    const nrm = Math.sqrt(g.reduce((s, v) => s + v * v, 0));
    if (nrm <= 1e-12 || !(nrm < gnorm)) break;
    gnorm = nrm;
    hessYY(p, X, off, all, pt, ys, A, 0);
    L.set(A);
    if (!cholesky(L, 0, dy)) return false;
    choleskySolve(L, 0, dy, g);
    const g0 = gMean(p, X, off, x, ys);
    let t = 1;
    for (let h = 0; h < 40; h++) {
      for (let k = 0; k < dy; k++) trial[k] = ys[k]! - t * g[k]!;
      if (p.kind !== 'mbbo-hyperclean' || gMean(p, X, off, x, trial) <= g0) break;
      t *= 0.5;
    }
    ys.set(trial);
  }
  // A at y* (the lower Hessian of the hypergradient) and its factor.
  hessYY(p, X, off, all, pt, ys, A, 0);
  L.set(A);
  if (!cholesky(L, 0, dy)) return false;
  gradYf(p, X, off, allSamples(p.nf), ys, us);
  choleskySolve(L, 0, dy, us);
  return true;
}

/**
 * Adds, over the listed local blocks (null: all): [Σ −∇²_xy g_i·u_i* (d), Σ f_i(y_i*),
 * Σ ‖y_i − y_i*‖², Σ tracker error², blocks] into out (length d + 4).
 */
export function mbboEval(
  p: MbboProblem,
  shard: ShardData,
  state: Readonly<Record<string, Float64Array>>,
  x: Float64Array,
  params: Float64Array,
  blocks: Uint32Array | null,
  out: Float64Array,
): string | null {
  const X = shard.matrix.kind === 'dense' ? shard.matrix.x : new Float64Array(0);
  const { d, dy } = p;
  const t = params[P.t]!;
  const v1 = params[P.method] === 1;
  const full = params[P.fullUpdate] === 1;
  const pt = upperPoint(p, x);
  const all = allSamples(p.n);
  const allF = allSamples(p.nf);
  const ys = new Float64Array(dy);
  const us = new Float64Array(dy);
  const A = new Float64Array(dy * dy);
  const L = new Float64Array(dy * dy);
  const last = state['mbbo.last']!;
  // Copies of y (and u), so catching up for the measurement leaves the state as it was.
  const copy = {
    y: new Float64Array(dy),
    yPrev: new Float64Array(dy),
    v: new Float64Array(dy),
    H: new Float64Array(0),
    HPrev: new Float64Array(0),
    u: new Float64Array(v1 ? 0 : dy),
    uPrev: new Float64Array(v1 ? 0 : dy),
    q: new Float64Array(v1 ? 0 : dy),
  };
  const count = blocks === null ? shard.matrix.rows : blocks.length;
  for (let bi = 0; bi < count; bi++) {
    const r = blocks === null ? bi : blocks[bi]!;
    const off = blockRef(p, shard, r);
    if (!exactBlock(p, X, off, x, ys, us, A, L)) return `block ${shard.firstRow + r}: lower-level Hessian not positive definite`;
    jvpAdd(p, X, off, all, pt, ys, us, -1, out);
    out[d] = out[d]! + fValue(p, X, off, allF, ys);
    const b = blockState(state, r, dy, v1);
    copy.y.set(b.y);
    copy.v.set(b.v);
    if (!v1) {
      copy.u.set(b.u);
      copy.q.set(b.q);
    }
    const lastT = last[r]! - 1;
    if (full && lastT >= 0) catchUp(copy, t - 1 - lastT, params[P.tau]!, params[P.tauU]!, params[P.uBound]!, v1);
    let ey = 0;
    for (let k = 0; k < dy; k++) ey += (copy.y[k]! - ys[k]!) ** 2;
    let et = 0;
    if (v1) for (let k = 0; k < dy * dy; k++) et += (b.H[k]! - A[k]!) ** 2;
    else for (let k = 0; k < dy; k++) et += (copy.u[k]! - us[k]!) ** 2;
    out[d + 1] = out[d + 1]! + ey;
    out[d + 2] = out[d + 2]! + et;
    out[d + 3] = out[d + 3]! + 1;
  }
  return null;
}
