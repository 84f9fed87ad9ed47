/**
 * Σ_{i∈S} F_i(x, y) of the matrix game's coordinate-pair split: component i (global index)
 * contributes N·(A_{i,:}ᵀ y_i, −A_{:,i} x_i). Linear, so differences use the same kernel on u − v.
 */
import type { DenseRows } from '../../shards/shard-data.js';

export function matrixGameApply(
  N: number,
  rows: DenseRows,
  firstRow: number,
  z: Float64Array,
  indices: Uint32Array | null,
  out: Float64Array,
): void {
  const X = rows.x;
  const count = indices === null ? rows.rows : indices.length;
  for (let k = 0; k < count; k++) {
    const r = indices === null ? k : indices[k]!;
    const i = firstRow + r;
    const yi = N * z[N + i]!;
    const xi = N * z[i]!;
    const base = r * 2 * N;
    if (yi !== 0) for (let j = 0; j < N; j++) out[j] = out[j]! + X[base + j]! * yi;
    if (xi !== 0) for (let j = 0; j < N; j++) out[N + j] = out[N + j]! - X[base + N + j]! * xi;
  }
  out[2 * N] = count;
}
