/**
 * DRO logistic regression with χ²-penalised sample weights (spec §6b), on synthetic data made on
 * the worker that owns each row: a_i ~ N(0, I_d), b_i = sign(a_iᵀx♮ + 0.5ξ_i), then a share
 * `flip` of labels flipped (row i flips iff its own uniform draw < flip). Row i depends only on
 * (seed, i). The saddle problem over u = (x, q), q ∈ n·Δ_n:
 *   min_x max_q (1/n)Σ q_i ℓ_i(x) − (ρ/(2n))‖q − 1‖² + (λ/2)‖x‖²,  ℓ_i(x) = log(1 + exp(−b_i a_iᵀx)),
 * with data components F_i(x, q) = (q_i∇ℓ_i(x), −ℓ_i(x)e_i); the regulariser (λx, (ρ/n)(q − 1))
 * is added exactly by the coordinator.
 */
import { COORDINATOR_SHARD, KeyedRng } from '@optfleet/proto';
import { sharedF64, type ShardData } from './shard-data.js';

export function droTruth(seed: number, d: number): Float64Array {
  const rng = new KeyedRng(seed, 0, COORDINATOR_SHARD, 'dro-truth');
  return Float64Array.from({ length: d }, () => rng.nextNormal());
}

export function droShard(seed: number, d: number, flip: number, shard: number, start: number, end: number): ShardData {
  const rows = end - start;
  const x = sharedF64(rows * d);
  const y = sharedF64(rows);
  const truth = droTruth(seed, d);
  for (let r = 0; r < rows; r++) {
    const rng = new KeyedRng(seed, start + r, COORDINATOR_SHARD, 'dro-row');
    let z = 0;
    for (let j = 0; j < d; j++) {
      const v = rng.nextNormal();
      x[r * d + j] = v;
      z += v * truth[j]!;
    }
    let label = z + 0.5 * rng.nextNormal() >= 0 ? 1 : -1;
    if (rng.nextFloat() < flip) label = -label;
    y[r] = label;
  }
  return { shard, firstRow: start, matrix: { kind: 'dense', rows, cols: d, x }, y };
}

/** Per-shard bound for step sizes: max_i (‖a_i‖²/4 + ‖a_i‖) (curvature of q_iℓ_i at q_i ≈ 1 plus the x–q coupling). */
export function droLipschitz(shard: ShardData): number {
  const m = shard.matrix;
  if (m.kind !== 'dense') return 0;
  let worst = 0;
  for (let r = 0; r < m.rows; r++) {
    let s = 0;
    for (let j = 0; j < m.cols; j++) s += m.x[r * m.cols + j]! ** 2;
    worst = Math.max(worst, s / 4 + Math.sqrt(s));
  }
  return worst;
}
