/**
 * Fused gradient kernels over a shard's rows. Each row is read once per pass: z = x·w, then
 * g += slope·x while the row is still in cache. Rows are visited in the given order (or 0..rows−1),
 * so the result depends only on the data, the points and the index list — never on threads.
 */
import type { RowMatrix } from '../../shards/shard-data.js';
import { lossSlope, lossValue, type LossKind } from './losses.js';

/**
 * Σ∇ℓ_i(w) and Σℓ_i over the selected rows. Writes out[0..d) = gradient sum, out[d] = loss sum,
 * out[d+1] = rows evaluated. `out` must be zero-filled with length d + 2.
 */
export function lossGrad(
  kind: LossKind,
  m: RowMatrix,
  y: Float64Array,
  w: Float64Array,
  indices: Uint32Array | null,
  out: Float64Array,
): void {
  const d = m.cols;
  const count = indices === null ? m.rows : indices.length;
  let loss = 0;
  if (m.kind === 'dense') {
    const x = m.x;
    for (let k = 0; k < count; k++) {
      const r = indices === null ? k : indices[k]!;
      const base = r * d;
      let z = 0;
      for (let j = 0; j < d; j++) z += x[base + j]! * w[j]!;
      const yr = y[r]!;
      loss += lossValue(kind, z, yr);
      const s = lossSlope(kind, z, yr);
      for (let j = 0; j < d; j++) out[j] = out[j]! + s * x[base + j]!;
    }
  } else {
    const { indptr, indices: cols, values } = m;
    for (let k = 0; k < count; k++) {
      const r = indices === null ? k : indices[k]!;
      const a = indptr[r]!;
      const b = indptr[r + 1]!;
      let z = 0;
      for (let p = a; p < b; p++) z += values[p]! * w[cols[p]!]!;
      const yr = y[r]!;
      loss += lossValue(kind, z, yr);
      const s = lossSlope(kind, z, yr);
      for (let p = a; p < b; p++) {
        const j = cols[p]!;
        out[j] = out[j]! + s * values[p]!;
      }
    }
  }
  out[d] = loss;
  out[d + 1] = count;
}

/**
 * Σ(∇ℓ_i(w1) − ∇ℓ_i(w2)) over the selected rows, both points on the same rows in one pass
 * (what SVRG/SARAH/PAGE differences need). out[0..d) = the sum, out[d] = rows evaluated.
 */
export function gradDiff(
  kind: LossKind,
  m: RowMatrix,
  y: Float64Array,
  w1: Float64Array,
  w2: Float64Array,
  indices: Uint32Array | null,
  out: Float64Array,
): void {
  const d = m.cols;
  const count = indices === null ? m.rows : indices.length;
  if (m.kind === 'dense') {
    const x = m.x;
    for (let k = 0; k < count; k++) {
      const r = indices === null ? k : indices[k]!;
      const base = r * d;
      let z1 = 0;
      let z2 = 0;
      for (let j = 0; j < d; j++) {
        const v = x[base + j]!;
        z1 += v * w1[j]!;
        z2 += v * w2[j]!;
      }
      const yr = y[r]!;
      const s = lossSlope(kind, z1, yr) - lossSlope(kind, z2, yr);
      for (let j = 0; j < d; j++) out[j] = out[j]! + s * x[base + j]!;
    }
  } else {
    const { indptr, indices: cols, values } = m;
    for (let k = 0; k < count; k++) {
      const r = indices === null ? k : indices[k]!;
      const a = indptr[r]!;
      const b = indptr[r + 1]!;
      let z1 = 0;
      let z2 = 0;
      for (let p = a; p < b; p++) {
        const v = values[p]!;
        const c = cols[p]!;
        z1 += v * w1[c]!;
        z2 += v * w2[c]!;
      }
      const yr = y[r]!;
      const s = lossSlope(kind, z1, yr) - lossSlope(kind, z2, yr);
      for (let p = a; p < b; p++) {
        const j = cols[p]!;
        out[j] = out[j]! + s * values[p]!;
      }
    }
  }
  out[d] = count;
}

/** max_i ‖x_i‖² over the shard (for step-size defaults: L_max = max‖x_i‖²·c_loss). */
export function maxRowNormSq(m: RowMatrix): number {
  let best = 0;
  if (m.kind === 'dense') {
    for (let r = 0; r < m.rows; r++) {
      let s = 0;
      const base = r * m.cols;
      for (let j = 0; j < m.cols; j++) s += m.x[base + j]! * m.x[base + j]!;
      if (s > best) best = s;
    }
  } else {
    for (let r = 0; r < m.rows; r++) {
      let s = 0;
      for (let p = m.indptr[r]!; p < m.indptr[r + 1]!; p++) s += m.values[p]! * m.values[p]!;
      if (s > best) best = s;
    }
  }
  return best;
}

/**
 * SAGA table initialisation: as lossGrad over all rows, and stores each row's loss slope
 * ℓ'_i(w) in `alpha` (the per-shard table; for GLMs ∇ℓ_i = ℓ'_i·x_i, so n scalars suffice).
 */
export function sagaInit(kind: LossKind, m: RowMatrix, y: Float64Array, w: Float64Array, alpha: Float64Array, out: Float64Array): void {
  const d = m.cols;
  let loss = 0;
  for (let r = 0; r < m.rows; r++) {
    let z = 0;
    if (m.kind === 'dense') {
      const base = r * d;
      for (let j = 0; j < d; j++) z += m.x[base + j]! * w[j]!;
    } else {
      for (let p = m.indptr[r]!; p < m.indptr[r + 1]!; p++) z += m.values[p]! * w[m.indices[p]!]!;
    }
    const yr = y[r]!;
    loss += lossValue(kind, z, yr);
    const s = lossSlope(kind, z, yr);
    alpha[r] = s;
    addRow(m, r, s, out);
  }
  out[d] = loss;
  out[d + 1] = m.rows;
}

/**
 * SAGA step on distinct rows: out += (ℓ'_i(w) − α_i)·x_i, then α_i ← ℓ'_i(w).
 * out[0..d) = the sum, out[d] = rows evaluated.
 */
export function sagaStep(
  kind: LossKind,
  m: RowMatrix,
  y: Float64Array,
  w: Float64Array,
  alpha: Float64Array,
  rows: Uint32Array,
  out: Float64Array,
): void {
  const d = m.cols;
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k]!;
    let z = 0;
    if (m.kind === 'dense') {
      const base = r * d;
      for (let j = 0; j < d; j++) z += m.x[base + j]! * w[j]!;
    } else {
      for (let p = m.indptr[r]!; p < m.indptr[r + 1]!; p++) z += m.values[p]! * w[m.indices[p]!]!;
    }
    const s = lossSlope(kind, z, y[r]!);
    addRow(m, r, s - alpha[r]!, out);
    alpha[r] = s;
  }
  out[d] = rows.length;
}

/** out[0..d) += c·x_r. */
function addRow(m: RowMatrix, r: number, c: number, out: Float64Array): void {
  if (m.kind === 'dense') {
    const d = m.cols;
    const base = r * d;
    for (let j = 0; j < d; j++) out[j] = out[j]! + c * m.x[base + j]!;
  } else {
    for (let p = m.indptr[r]!; p < m.indptr[r + 1]!; p++) {
      const j = m.indices[p]!;
      out[j] = out[j]! + c * m.values[p]!;
    }
  }
}
