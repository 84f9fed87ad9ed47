/**
 * Stochastic oracles of one MBBO block, averaged over a list of its samples (spec §4(a), §4(a′)).
 * Every function overwrites its output with the mean over the listed samples (a sample listed
 * twice counts twice: mini-batches are drawn with replacement). `X` is the shard's block rows and
 * `off` the block's offset in it (layout in shards/mbbo.ts).
 *
 * Per lower sample (a, b, c):        quadratic                      ridge (e = e^x)
 *   ∇_y g                             a(aᵀy − bᵀx − c) + μy          a(aᵀy − c) + e ⊙ y
 *   ∇²_yy g                           aaᵀ + μI                       aaᵀ + diag(e)
 *   ∇²_xy g·w (d-vector)              −b(aᵀw)                        e ⊙ y ⊙ w
 * Per upper sample (p, q): f = ½(pᵀy − q)², ∇_y f = p(pᵀy − q); ∇_x f is r'(x) (quadratic,
 * sample-free: the coordinator adds it exactly) or 0 (ridge).
 */
import { lowerStride, upperStride, type MbboProblem } from '../../shards/mbbo.js';

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

/** Mean over the listed lower samples of ∇_y g(x, y; j) → out (d_y). */
export function gradYg(
  p: MbboProblem,
  X: Float64Array,
  off: number,
  idx: Uint32Array,
  pt: UpperPoint,
  y: Float64Array,
  out: Float64Array,
): void {
  const { dy, db } = p;
  const ls = lowerStride(p);
  out.fill(0, 0, dy);
  for (let s = 0; s < idx.length; s++) {
    const o = off + idx[s]! * ls;
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
  off: number,
  idx: Uint32Array,
  pt: UpperPoint,
  out: Float64Array,
  outOff: number,
): void {
  const dy = p.dy;
  const ls = lowerStride(p);
  out.fill(0, outOff, outOff + dy * dy);
  for (let s = 0; s < idx.length; s++) {
    const o = off + idx[s]! * ls;
    for (let i = 0; i < dy; i++) {
      const ai = X[o + i]!;
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
  off: number,
  idx: Uint32Array,
  pt: UpperPoint,
  u: Float64Array,
  out: Float64Array,
): void {
  const dy = p.dy;
  const ls = lowerStride(p);
  out.fill(0, 0, dy);
  for (let s = 0; s < idx.length; s++) {
    const o = off + idx[s]! * ls;
    let r = 0;
    for (let k = 0; k < dy; k++) r += X[o + k]! * u[k]!;
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
  off: number,
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
  const f = -scale / idx.length;
  for (let s = 0; s < idx.length; s++) {
    const o = off + idx[s]! * ls;
    let r = 0;
    for (let k = 0; k < dy; k++) r += X[o + k]! * w[k]!;
    r *= f;
    for (let l = 0; l < db; l++) out[l] = out[l]! + r * X[o + dy + l]!;
  }
}

/** Mean over the listed upper samples of ∇_y f(y; k) → out (d_y). */
export function gradYf(p: MbboProblem, X: Float64Array, off: number, idx: Uint32Array, y: Float64Array, out: Float64Array): void {
  const dy = p.dy;
  const us = upperStride(p);
  const base = off + p.n * lowerStride(p);
  out.fill(0, 0, dy);
  for (let s = 0; s < idx.length; s++) {
    const o = base + idx[s]! * us;
    let r = -X[o + dy]!;
    for (let k = 0; k < dy; k++) r += X[o + k]! * y[k]!;
    for (let k = 0; k < dy; k++) out[k] = out[k]! + r * X[o + k]!;
  }
  const inv = 1 / idx.length;
  for (let k = 0; k < dy; k++) out[k] = out[k]! * inv;
}

/** Mean over the listed upper samples of f(y; k) = ½(pᵀy − q)² (r(x) excluded). */
export function fValue(p: MbboProblem, X: Float64Array, off: number, idx: Uint32Array, y: Float64Array): number {
  const dy = p.dy;
  const us = upperStride(p);
  const base = off + p.n * lowerStride(p);
  let total = 0;
  for (let s = 0; s < idx.length; s++) {
    const o = base + idx[s]! * us;
    let r = -X[o + dy]!;
    for (let k = 0; k < dy; k++) r += X[o + k]! * y[k]!;
    total += 0.5 * r * r;
  }
  return total / idx.length;
}

/** g(x, y; j) of one lower sample (the finite-difference tests' reference). */
export function gValue(p: MbboProblem, X: Float64Array, off: number, j: number, x: Float64Array, y: Float64Array): number {
  const { dy, db } = p;
  const o = off + j * lowerStride(p);
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
