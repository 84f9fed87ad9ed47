import { describe, expect, it } from 'vitest';
import { KeyedRng } from '@optfleet/proto';
import { gradDiff, lossGrad, maxRowNormSq } from './fused.js';
import type { CsrRows, DenseRows } from '../../shards/shard-data.js';
import type { LossKind } from './losses.js';

/** Plain, unfused reference: per row, loss by the textbook formula, gradient by its definition. */
function reference(kind: LossKind, X: number[][], y: number[], w: number[], rows: number[]): { g: number[]; loss: number } {
  const g = new Array<number>(w.length).fill(0);
  let loss = 0;
  for (const r of rows) {
    const z = X[r]!.reduce((s, v, j) => s + v * w[j]!, 0);
    if (kind === 'logistic') {
      loss += Math.log(1 + Math.exp(-y[r]! * z));
      const c = (-y[r]! * Math.exp(-y[r]! * z)) / (1 + Math.exp(-y[r]! * z));
      X[r]!.forEach((v, j) => (g[j] = g[j]! + c * v));
    } else {
      loss += 0.5 * (z - y[r]!) ** 2;
      X[r]!.forEach((v, j) => (g[j] = g[j]! + (z - y[r]!) * v));
    }
  }
  return { g, loss };
}

function problem(n: number, d: number, seed: number): { X: number[][]; y: number[]; w: number[]; w2: number[] } {
  const rng = new KeyedRng(seed, 0, 0, 'kernel-test');
  const X = Array.from({ length: n }, () => Array.from({ length: d }, () => (rng.nextFloat() < 0.4 ? 0 : rng.nextNormal())));
  const y = Array.from({ length: n }, () => (rng.nextFloat() < 0.5 ? 1 : -1));
  const w = Array.from({ length: d }, () => rng.nextNormal());
  const w2 = Array.from({ length: d }, () => rng.nextNormal());
  return { X, y, w, w2 };
}

function dense(X: number[][]): DenseRows {
  return { kind: 'dense', rows: X.length, cols: X[0]!.length, x: Float64Array.from(X.flat()) };
}

function csr(X: number[][]): CsrRows {
  const indptr = [0];
  const indices: number[] = [];
  const values: number[] = [];
  for (const row of X) {
    row.forEach((v, j) => {
      if (v !== 0) {
        indices.push(j);
        values.push(v);
      }
    });
    indptr.push(indices.length);
  }
  return {
    kind: 'csr',
    rows: X.length,
    cols: X[0]!.length,
    indptr: Int32Array.from(indptr),
    indices: Int32Array.from(indices),
    values: Float64Array.from(values),
  };
}

describe('fused kernels', () => {
  for (const kind of ['logistic', 'least-squares'] as const) {
    for (const layout of ['dense', 'csr'] as const) {
      it(`${kind} ${layout}: loss-grad matches the unfused reference on all rows and on sampled rows`, () => {
        const { X, y, w } = problem(60, 7, 1);
        const m = layout === 'dense' ? dense(X) : csr(X);
        for (const rows of [null, Uint32Array.from([3, 3, 59, 0, 17])]) {
          const out = new Float64Array(9);
          lossGrad(kind, m, Float64Array.from(y), Float64Array.from(w), rows, out);
          const ref = reference(kind, X, y, w, rows === null ? X.map((_, i) => i) : Array.from(rows));
          for (let j = 0; j < 7; j++) expect(out[j]).toBeCloseTo(ref.g[j]!, 10);
          expect(out[7]).toBeCloseTo(ref.loss, 10);
          expect(out[8]).toBe(rows === null ? 60 : 5);
        }
      });

      it(`${kind} ${layout}: grad-diff equals the difference of two loss-grads`, () => {
        const { X, y, w, w2 } = problem(40, 6, 2);
        const m = layout === 'dense' ? dense(X) : csr(X);
        const rows = Uint32Array.from([1, 5, 5, 39]);
        const a = new Float64Array(8);
        const b = new Float64Array(8);
        const diff = new Float64Array(7);
        lossGrad(kind, m, Float64Array.from(y), Float64Array.from(w), rows, a);
        lossGrad(kind, m, Float64Array.from(y), Float64Array.from(w2), rows, b);
        gradDiff(kind, m, Float64Array.from(y), Float64Array.from(w), Float64Array.from(w2), rows, diff);
        for (let j = 0; j < 6; j++) expect(diff[j]).toBeCloseTo(a[j]! - b[j]!, 10);
        expect(diff[6]).toBe(4);
      });
    }
  }

  it('the gradient is the derivative of the loss (central differences)', () => {
    const { X, y, w } = problem(30, 5, 3);
    const m = dense(X);
    const yy = Float64Array.from(y);
    const out = new Float64Array(7);
    lossGrad('logistic', m, yy, Float64Array.from(w), null, out);
    for (let j = 0; j < 5; j++) {
      const h = 1e-6;
      const wp = Float64Array.from(w);
      const wm = Float64Array.from(w);
      wp[j] = wp[j]! + h;
      wm[j] = wm[j]! - h;
      const op = new Float64Array(7);
      const om = new Float64Array(7);
      lossGrad('logistic', m, yy, wp, null, op);
      lossGrad('logistic', m, yy, wm, null, om);
      expect(out[j]).toBeCloseTo((op[5]! - om[5]!) / (2 * h), 5);
    }
  });

  it('logistic stays finite for huge margins', () => {
    const m: DenseRows = { kind: 'dense', rows: 2, cols: 1, x: Float64Array.from([1000, -1000]) };
    const out = new Float64Array(3);
    lossGrad('logistic', m, Float64Array.from([1, 1]), Float64Array.from([1]), null, out);
    expect(out.every(Number.isFinite)).toBe(true);
    expect(out[1]).toBeCloseTo(1000, 6);
  });

  it('dense and CSR layouts of the same rows give the same max row norm', () => {
    const { X } = problem(20, 4, 4);
    expect(maxRowNormSq(dense(X))).toBeCloseTo(maxRowNormSq(csr(X)), 12);
  });
});
