/**
 * Independent optimum for L2-regularised logistic regression: Newton's method in float64 with a
 * dense Hessian and Cholesky solve, written here from the formulas (it shares no code with the
 * drivers or kernels under test). Converges quadratically to machine precision.
 */
import type { ParsedDataFile, ShardData } from '@optfleet/worker';

/** Rows as (column indices, values) pairs, whatever the storage. */
export interface RowSource {
  readonly n: number;
  readonly d: number;
  row(i: number): { idx: ArrayLike<number>; val: ArrayLike<number> };
  readonly y: Float64Array;
}

export function rowsOf(data: ParsedDataFile | ShardData): RowSource {
  const m = data.matrix;
  const d = m.cols;
  if (m.kind === 'dense') {
    const idx = Array.from({ length: d }, (_, j) => j);
    return { n: m.rows, d, y: data.y, row: (i) => ({ idx, val: m.x.subarray(i * d, (i + 1) * d) }) };
  }
  return {
    n: m.rows,
    d,
    y: data.y,
    row: (i) => ({ idx: m.indices.subarray(m.indptr[i]!, m.indptr[i + 1]!), val: m.values.subarray(m.indptr[i]!, m.indptr[i + 1]!) }),
  };
}

export function logisticObjective(src: RowSource, l2: number, w: ArrayLike<number>): number {
  let f = 0;
  for (let i = 0; i < src.n; i++) {
    const { idx, val } = src.row(i);
    let z = 0;
    for (let k = 0; k < idx.length; k++) z += val[k]! * w[idx[k]!]!;
    const m = src.y[i]! * z;
    f += m > 0 ? Math.log1p(Math.exp(-m)) : -m + Math.log1p(Math.exp(m));
  }
  let ww = 0;
  for (let j = 0; j < src.d; j++) ww += w[j]! * w[j]!;
  return f / src.n + 0.5 * l2 * ww;
}

export function newtonLogistic(src: RowSource, l2: number, iterations = 30): { w: Float64Array; f: number; gradNorm: number } {
  const { n, d } = src;
  const w = new Float64Array(d);
  let gradNorm = Infinity;
  for (let it = 0; it < iterations; it++) {
    const g = new Float64Array(d);
    const H = new Float64Array(d * d);
    for (let i = 0; i < n; i++) {
      const { idx, val } = src.row(i);
      let z = 0;
      for (let k = 0; k < idx.length; k++) z += val[k]! * w[idx[k]!]!;
      const y = src.y[i]!;
      const p = 1 / (1 + Math.exp(y * z));
      const c = (-y * p) / n;
      const h = (p * (1 - p)) / n;
      for (let a = 0; a < idx.length; a++) {
        g[idx[a]!] = g[idx[a]!]! + c * val[a]!;
        for (let b = 0; b < idx.length; b++) H[idx[a]! * d + idx[b]!] = H[idx[a]! * d + idx[b]!]! + h * val[a]! * val[b]!;
      }
    }
    let gg = 0;
    for (let j = 0; j < d; j++) {
      g[j] = g[j]! + l2 * w[j]!;
      H[j * d + j] = H[j * d + j]! + l2;
      gg += g[j]! * g[j]!;
    }
    gradNorm = Math.sqrt(gg);
    if (gradNorm < 1e-15) break;
    // Cholesky H = L Lᵀ, then solve L Lᵀ s = g.
    const L = new Float64Array(d * d);
    for (let a = 0; a < d; a++) {
      for (let b = 0; b <= a; b++) {
        let s = H[a * d + b]!;
        for (let k = 0; k < b; k++) s -= L[a * d + k]! * L[b * d + k]!;
        L[a * d + b] = a === b ? Math.sqrt(s) : s / L[b * d + b]!;
      }
    }
    const t = new Float64Array(d);
    for (let a = 0; a < d; a++) {
      let s = g[a]!;
      for (let k = 0; k < a; k++) s -= L[a * d + k]! * t[k]!;
      t[a] = s / L[a * d + a]!;
    }
    for (let a = d - 1; a >= 0; a--) {
      let s = t[a]!;
      for (let k = a + 1; k < d; k++) s -= L[k * d + a]! * t[k]!;
      t[a] = s / L[a * d + a]!;
    }
    for (let j = 0; j < d; j++) w[j] = w[j]! - t[j]!;
  }
  return { w, f: logisticObjective(src, l2, w), gradNorm };
}
