/**
 * Stochastic oracles of one MBBO block, averaged over a list of its samples (spec §4(a), §4(a′)).
 * Every function overwrites its output with the mean over the listed samples (a sample listed
 * twice counts twice: mini-batches are drawn with replacement). `X` is the shard's data and `blk`
 * the block: its offset in X (layout in shards/mbbo.ts) and, for hyper-cleaning, its temperature.
 *
 * Per lower sample (a, b, c):        quadratic                      ridge (e = e^x)
 *   ∇_y g                             a(aᵀy − bᵀx − c) + μy          a(aᵀy − c) + e ⊙ y
 *   ∇²_yy g                           aaᵀ + μI                       aaᵀ + diag(e)
 *   ∇²_xy g·w (d-vector)              −b(aᵀw)                        e ⊙ y ⊙ w
 * Per upper sample (p, q): f = ½(pᵀy − q)², ∇_y f = p(pᵀy − q); ∇_x f is r'(x) (quadratic,
 * sample-free: the coordinator adds it exactly) or 0 (ridge).
 * Hyper-cleaning (spec §4(b), sample j = (a, label), s = label/σ_i, φ = 1/(1 + e^{s·yᵀa}),
 * ω_j = sigmoid(x_j), λ = p.mu): ∇_y g = −ω_j φ s a + λy, ∇²_yy g = ω_j φ(1−φ)s² aaᵀ + λI,
 * ∇²_xy g·w = e_j·ω_j(1−ω_j)(−φ s aᵀw) (only coordinate j), f = log(1 + e^{−s·yᵀa}) on the
 * validation rows, ∇_y f = −φ s a, ∇_x f = 0.
 */
import { lowerStride, upperStride, type MbboProblem } from '../../shards/mbbo.js';

/** One block: where its samples start in the shard's data, and its temperature σ_i (hyper-cleaning). */
export interface BlockRef {
  readonly off: number;
  readonly sigma: number;
}

/** What the oracles need of an upper point x: x itself and, for ridge, e^x. */
export interface UpperPoint {
  readonly x: Float64Array;
  /** e^x (ridge); empty for quadratic. */
  readonly ex: Float64Array;
}

export function upperPoint(p: MbboProblem, x: Float64Array): UpperPoint {
  if (p.kind !== 'mbbo-ridge') return { x, ex: new Float64Array(0) };
  const ex = new Float64Array(x.length);
  for (let k = 0; k < x.length; k++) ex[k] = Math.exp(x[k]!);
  return { x, ex };
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

/** log(1 + e^{−m}) without overflow. */
function softplusNeg(m: number): number {
  return m > 0 ? Math.log1p(Math.exp(-m)) : -m + Math.log1p(Math.exp(m));
}

/** Hyper-cleaning: s·yᵀa of the row at o (label at o + d_y) and its s. */
function margin(X: Float64Array, o: number, dy: number, y: Float64Array, sigma: number): { s: number; m: number } {
  const s = X[o + dy]! / sigma;
  let t = 0;
  for (let k = 0; k < dy; k++) t += X[o + k]! * y[k]!;
  return { s, m: s * t };
}

/** Mean over the listed lower samples of ∇_y g(x, y; j) → out (d_y). */
export function gradYg(
  p: MbboProblem,
  X: Float64Array,
  blk: BlockRef,
  idx: Uint32Array,
  pt: UpperPoint,
  y: Float64Array,
  out: Float64Array,
): void {
  const { dy, db } = p;
  const ls = lowerStride(p);
  out.fill(0, 0, dy);
  if (p.kind === 'mbbo-hyperclean') {
    for (let s = 0; s < idx.length; s++) {
      const j = idx[s]!;
      const o = blk.off + j * ls;
      const g = margin(X, o, dy, y, blk.sigma);
      const c = -sigmoid(pt.x[j]!) * sigmoid(-g.m) * g.s;
      for (let k = 0; k < dy; k++) out[k] = out[k]! + c * X[o + k]!;
    }
    const inv = 1 / idx.length;
    for (let k = 0; k < dy; k++) out[k] = out[k]! * inv + p.mu * y[k]!;
    return;
  }
  for (let s = 0; s < idx.length; s++) {
    const o = blk.off + idx[s]! * ls;
    let r = 0;
    for (let k = 0; k < dy; k++) r += X[o + k]! * y[k]!;
    for (let l = 0; l < db; l++) r -= X[o + dy + l]! * pt.x[l]!;
    r -= X[o + dy + db]!;
    for (let k = 0; k < dy; k++) out[k] = out[k]! + r * X[o + k]!;
  }
  const inv = 1 / idx.length;
  if (p.kind === 'mbbo-ridge') for (let k = 0; k < dy; k++) out[k] = out[k]! * inv + pt.ex[k]! * y[k]!;
  else for (let k = 0; k < dy; k++) out[k] = out[k]! * inv + p.mu * y[k]!;
}

/** Mean over the listed lower samples of ∇²_yy g(x, y; j) → out (d_y×d_y, row-major at outOff). */
export function hessYY(
  p: MbboProblem,
  X: Float64Array,
  blk: BlockRef,
  idx: Uint32Array,
  pt: UpperPoint,
  y: Float64Array,
  out: Float64Array,
  outOff: number,
): void {
  const dy = p.dy;
  const ls = lowerStride(p);
  out.fill(0, outOff, outOff + dy * dy);
  const hc = p.kind === 'mbbo-hyperclean';
  for (let s = 0; s < idx.length; s++) {
    const o = blk.off + idx[s]! * ls;
    let c = 1;
    if (hc) {
      const g = margin(X, o, dy, y, blk.sigma);
      const phi = sigmoid(-g.m);
      c = sigmoid(pt.x[idx[s]!]!) * phi * (1 - phi) * g.s * g.s;
    }
    for (let i = 0; i < dy; i++) {
      const ai = c * X[o + i]!;
      const row = outOff + i * dy;
      for (let j = 0; j <= i; j++) out[row + j] = out[row + j]! + ai * X[o + j]!;
    }
  }
  const inv = 1 / idx.length;
  for (let i = 0; i < dy; i++) {
    for (let j = 0; j <= i; j++) {
      const v = out[outOff + i * dy + j]! * inv;
      out[outOff + i * dy + j] = v;
      out[outOff + j * dy + i] = v;
    }
    out[outOff + i * dy + i] = out[outOff + i * dy + i]! + (p.kind === 'mbbo-ridge' ? pt.ex[i]! : p.mu);
  }
}

/** Mean over the listed lower samples of ∇²_yy g(x, y; j)·u → out (d_y). */
export function hvp(
  p: MbboProblem,
  X: Float64Array,
  blk: BlockRef,
  idx: Uint32Array,
  pt: UpperPoint,
  y: Float64Array,
  u: Float64Array,
  out: Float64Array,
): void {
  const dy = p.dy;
  const ls = lowerStride(p);
  const hc = p.kind === 'mbbo-hyperclean';
  out.fill(0, 0, dy);
  for (let s = 0; s < idx.length; s++) {
    const o = blk.off + idx[s]! * ls;
    let r = 0;
    for (let k = 0; k < dy; k++) r += X[o + k]! * u[k]!;
    if (hc) {
      const g = margin(X, o, dy, y, blk.sigma);
      const phi = sigmoid(-g.m);
      r *= sigmoid(pt.x[idx[s]!]!) * phi * (1 - phi) * g.s * g.s;
    }
    for (let k = 0; k < dy; k++) out[k] = out[k]! + r * X[o + k]!;
  }
  const inv = 1 / idx.length;
  if (p.kind === 'mbbo-ridge') for (let k = 0; k < dy; k++) out[k] = out[k]! * inv + pt.ex[k]! * u[k]!;
  else for (let k = 0; k < dy; k++) out[k] = out[k]! * inv + p.mu * u[k]!;
}

/**
 * Adds `scale` × the mean over the listed lower samples of ∇²_xy g(x, y; j)·w to out (d): the
 * Jacobian-vector product of the hypergradient's implicit term, never forming the d×d_y matrix.
 */
export function jvpAdd(
  p: MbboProblem,
  X: Float64Array,
  blk: BlockRef,
  idx: Uint32Array,
  pt: UpperPoint,
  y: Float64Array,
  w: Float64Array,
  scale: number,
  out: Float64Array,
): void {
  const { dy, db } = p;
  if (p.kind === 'mbbo-ridge') {
    // Sample-free: ∇²_xy g = diag(e^x ⊙ y) whatever the sample.
    for (let k = 0; k < dy; k++) out[k] = out[k]! + scale * pt.ex[k]! * y[k]! * w[k]!;
    return;
  }
  const ls = lowerStride(p);
  if (p.kind === 'mbbo-hyperclean') {
    // Only coordinate j of a sample's cross term is non-zero.
    const f = scale / idx.length;
    for (let s = 0; s < idx.length; s++) {
      const j = idx[s]!;
      const o = blk.off + j * ls;
      const g = margin(X, o, dy, y, blk.sigma);
      let aw = 0;
      for (let k = 0; k < dy; k++) aw += X[o + k]! * w[k]!;
      const om = sigmoid(pt.x[j]!);
      out[j] = out[j]! + f * om * (1 - om) * -sigmoid(-g.m) * g.s * aw;
    }
    return;
  }
  const f = -scale / idx.length;
  for (let s = 0; s < idx.length; s++) {
    const o = blk.off + idx[s]! * ls;
    let r = 0;
    for (let k = 0; k < dy; k++) r += X[o + k]! * w[k]!;
    r *= f;
    for (let l = 0; l < db; l++) out[l] = out[l]! + r * X[o + dy + l]!;
  }
}

/** Mean over the listed upper samples of ∇_y f(y; k) → out (d_y). */
export function gradYf(p: MbboProblem, X: Float64Array, blk: BlockRef, idx: Uint32Array, y: Float64Array, out: Float64Array): void {
  const dy = p.dy;
  const us = upperStride(p);
  const base = blk.off + p.n * lowerStride(p);
  out.fill(0, 0, dy);
  const hc = p.kind === 'mbbo-hyperclean';
  for (let s = 0; s < idx.length; s++) {
    const o = base + idx[s]! * us;
    let r: number;
    if (hc) {
      const g = margin(X, o, dy, y, blk.sigma);
      r = -sigmoid(-g.m) * g.s;
    } else {
      r = -X[o + dy]!;
      for (let k = 0; k < dy; k++) r += X[o + k]! * y[k]!;
    }
    for (let k = 0; k < dy; k++) out[k] = out[k]! + r * X[o + k]!;
  }
  const inv = 1 / idx.length;
  for (let k = 0; k < dy; k++) out[k] = out[k]! * inv;
}

/** Mean over the listed upper samples of f(y; k) = ½(pᵀy − q)² (r(x) excluded; hyper-cleaning: the logistic loss). */
export function fValue(p: MbboProblem, X: Float64Array, blk: BlockRef, idx: Uint32Array, y: Float64Array): number {
  const dy = p.dy;
  const us = upperStride(p);
  const base = blk.off + p.n * lowerStride(p);
  let total = 0;
  for (let s = 0; s < idx.length; s++) {
    const o = base + idx[s]! * us;
    if (p.kind === 'mbbo-hyperclean') {
      total += softplusNeg(margin(X, o, dy, y, blk.sigma).m);
      continue;
    }
    let r = -X[o + dy]!;
    for (let k = 0; k < dy; k++) r += X[o + k]! * y[k]!;
    total += 0.5 * r * r;
  }
  return total / idx.length;
}

/** g(x, y; j) of one lower sample (the finite-difference tests' reference). */
export function gValue(p: MbboProblem, X: Float64Array, blk: BlockRef, j: number, x: Float64Array, y: Float64Array): number {
  const { dy, db } = p;
  const o = blk.off + j * lowerStride(p);
  if (p.kind === 'mbbo-hyperclean') {
    let yy = 0;
    for (let k = 0; k < dy; k++) yy += y[k]! * y[k]!;
    return sigmoid(x[j]!) * softplusNeg(margin(X, o, dy, y, blk.sigma).m) + 0.5 * p.mu * yy;
  }
  let ay = 0;
  for (let k = 0; k < dy; k++) ay += X[o + k]! * y[k]!;
  let yy = 0;
  if (p.kind === 'mbbo-ridge') {
    for (let k = 0; k < dy; k++) yy += Math.exp(x[k]!) * y[k]! * y[k]!;
    const r = ay - X[o + dy]!;
    return 0.5 * r * r + 0.5 * yy;
  }
  let bx = 0;
  for (let l = 0; l < db; l++) bx += X[o + dy + l]! * x[l]!;
  for (let k = 0; k < dy; k++) yy += y[k]! * y[k]!;
  return 0.5 * ay * ay - ay * (bx + X[o + dy + db]!) + 0.5 * p.mu * yy;
}

/** All sample indices [0, count). */
export function allSamples(count: number): Uint32Array {
  const a = new Uint32Array(count);
  for (let i = 0; i < count; i++) a[i] = i;
  return a;
}
