/**
 * Data part of the DRO operator over a shard's rows: Σ_{i∈S} F_i(x, q) with
 * F_i = (q_i∇ℓ_i(x), −ℓ_i(x)e_i). The iterate is u = (x (d), q (n)); row r of the shard is global
 * component firstRow + r. `sign` lets op-diff accumulate F_i(u) − F_i(v) in one pass per point.
 */
import type { DenseRows } from '../../shards/shard-data.js';
import { lossSlope, lossValue } from './losses.js';

export function droApply(
  rows: DenseRows,
  labels: Float64Array,
  firstRow: number,
  u: Float64Array,
  indices: Uint32Array | null,
  sign: number,
  out: Float64Array,
): void {
  const d = rows.cols;
  const X = rows.x;
  const count = indices === null ? rows.rows : indices.length;
  for (let k = 0; k < count; k++) {
    const r = indices === null ? k : indices[k]!;
    const i = firstRow + r;
    const base = r * d;
    let z = 0;
    for (let j = 0; j < d; j++) z += X[base + j]! * u[j]!;
    const yi = labels[r]!;
    const qi = u[d + i]!;
    const c = sign * qi * lossSlope('logistic', z, yi);
    for (let j = 0; j < d; j++) out[j] = out[j]! + c * X[base + j]!;
    out[d + i] = out[d + i]! - sign * lossValue('logistic', z, yi);
  }
}
