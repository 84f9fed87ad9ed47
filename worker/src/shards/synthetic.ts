/**
 * Seeded synthetic data, generated on the worker that owns the shard (data never travels).
 * Row i depends only on (data seed, i), so the data set is the same whatever the shard count.
 * x_i ~ N(0, I/d) (so ‖x_i‖² ≈ 1), w_true ~ N(0, 4·I);
 * logistic: y_i = +1 with probability σ(x_iᵀw_true), else −1; least squares: y_i = x_iᵀw_true + noise·N(0,1).
 */
import { COORDINATOR_SHARD, KeyedRng } from '@optfleet/proto';
import { sharedF64, type ShardData } from './shard-data.js';
import type { LossKind } from '../kernels/cpu/losses.js';

export interface SyntheticOptions {
  readonly kind: LossKind;
  readonly seed: number;
  readonly d: number;
  readonly noise: number;
}

/** The planted parameter vector w_true. */
export function syntheticTruth(seed: number, d: number): Float64Array {
  const rng = new KeyedRng(seed, 0, COORDINATOR_SHARD, 'synthetic-truth');
  const w = new Float64Array(d);
  for (let j = 0; j < d; j++) w[j] = 2 * rng.nextNormal();
  return w;
}

/** Fills row `i` into x[offset..offset+d) and returns its label/target. */
export function syntheticRow(o: SyntheticOptions, truth: Float64Array, i: number, x: Float64Array, offset: number): number {
  const rng = new KeyedRng(o.seed, i, COORDINATOR_SHARD, 'synthetic-row');
  const scale = 1 / Math.sqrt(o.d);
  let z = 0;
  for (let j = 0; j < o.d; j++) {
    const v = rng.nextNormal() * scale;
    x[offset + j] = v;
    z += v * truth[j]!;
  }
  if (o.kind === 'least-squares') return z + o.noise * rng.nextNormal();
  return rng.nextFloat() < 1 / (1 + Math.exp(-z)) ? 1 : -1;
}

/** Builds shard `shard` holding global rows [start, end). */
export function syntheticShard(o: SyntheticOptions, shard: number, start: number, end: number): ShardData {
  const rows = end - start;
  const x = sharedF64(rows * o.d);
  const y = sharedF64(rows);
  const truth = syntheticTruth(o.seed, o.d);
  for (let r = 0; r < rows; r++) y[r] = syntheticRow(o, truth, start + r, x, r * o.d);
  return { shard, firstRow: start, matrix: { kind: 'dense', rows, cols: o.d, x }, y };
}
