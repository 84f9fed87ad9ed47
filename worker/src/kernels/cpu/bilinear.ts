/**
 * Operator kernels of the bilinear game: Σ_{i∈S} F_i(z) and Σ_{i∈S}(F_i(z) − F_i(z')) over a
 * shard's components. The mean part (μ, B, q) is applied once per call scaled by |S|; only the
 * per-component deviations σG_i, σh_i are read row by row (each row once per call).
 */
import type { DenseRows } from '../../shards/shard-data.js';
import type { BilinearGame } from '../../shards/bilinear.js';

/**
 * out[0..2m) = Σ_{i∈S} (M_i z + q_i) when `affine`, Σ_{i∈S} M_i z otherwise; out[2m] = |S|.
 * `rows` holds [G_i, h_i] per component; `indices` null means every component.
 */
export function bilinearApply(
  g: BilinearGame,
  rows: DenseRows,
  z: Float64Array,
  indices: Uint32Array | null,
  affine: boolean,
  out: Float64Array,
): void {
  const m = g.m;
  const w = m * m + 2 * m;
  const X = rows.x;
  const count = indices === null ? rows.rows : indices.length;
  const gy = new Float64Array(m);
  const gtx = new Float64Array(m);
  const h = new Float64Array(2 * m);
  for (let k = 0; k < count; k++) {
    const base = (indices === null ? k : indices[k]!) * w;
    for (let a = 0; a < m; a++) {
      const xa = z[a]!;
      let s = 0;
      const rowA = base + a * m;
      for (let b = 0; b < m; b++) {
        const v = X[rowA + b]!;
        s += v * z[m + b]!;
        gtx[b] = gtx[b]! + v * xa;
      }
      gy[a] = gy[a]! + s;
    }
    if (affine) for (let j = 0; j < 2 * m; j++) h[j] = h[j]! + X[base + m * m + j]!;
  }
  const { B, mu, sigma, q } = g;
  for (let a = 0; a < m; a++) {
    let by = 0;
    let btx = 0;
    for (let b = 0; b < m; b++) {
      by += B[a * m + b]! * z[m + b]!;
      btx += B[b * m + a]! * z[b]!;
    }
    const qx = affine ? q[a]! : 0;
    const qy = affine ? q[m + a]! : 0;
    out[a] = count * (mu * z[a]! + by + qx) + sigma * (gy[a]! + h[a]!);
    out[m + a] = count * (mu * z[m + a]! - btx + qy) + sigma * (h[m + a]! - gtx[a]!);
  }
  out[2 * m] = count;
}
