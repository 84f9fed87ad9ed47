/** What operator tasks know about their problem, and the kernel dispatch for `op-eval`/`op-diff`. */
import { bilinearApply } from '../kernels/cpu/bilinear.js';
import { matrixGameApply } from '../kernels/cpu/matrix-game.js';
import { droApply } from '../kernels/cpu/dro.js';
import type { BilinearGame } from '../shards/bilinear.js';
import type { ShardData } from '../shards/shard-data.js';

export type OperatorData =
  | { readonly kind: 'bilinear-game'; readonly game: BilinearGame }
  | { readonly kind: 'matrix-game'; readonly size: number }
  | { readonly kind: 'dro-logistic'; readonly n: number; readonly d: number };

/** Dimension of the iterate u. */
export function operatorDim(o: OperatorData): number {
  if (o.kind === 'bilinear-game') return 2 * o.game.m;
  if (o.kind === 'matrix-game') return 2 * o.size;
  return o.d + o.n;
}

/** Σ F_i(z) over the selected components (affine part included when `affine`). */
export function applyOperator(
  o: OperatorData,
  shard: ShardData,
  z: Float64Array,
  indices: Uint32Array | null,
  affine: boolean,
  out: Float64Array,
): void {
  if (shard.matrix.kind !== 'dense') throw new Error('operator shards are dense');
  if (o.kind === 'bilinear-game') bilinearApply(o.game, shard.matrix, z, indices, affine, out);
  else if (o.kind === 'matrix-game') matrixGameApply(o.size, shard.matrix, shard.firstRow, z, indices, out);
  else droApply(shard.matrix, shard.y, shard.firstRow, z, indices, 1, out);
  out[operatorDim(o)] = indices === null ? shard.matrix.rows : indices.length;
}

/** Σ(F_i(u) − F_i(v)) over the same components: via u − v for the affine operators, two passes otherwise. */
export function applyOperatorDiff(
  o: OperatorData,
  shard: ShardData,
  u: Float64Array,
  v: Float64Array,
  indices: Uint32Array | null,
  out: Float64Array,
): void {
  if (shard.matrix.kind !== 'dense') throw new Error('operator shards are dense');
  if (o.kind === 'dro-logistic') {
    droApply(shard.matrix, shard.y, shard.firstRow, u, indices, 1, out);
    droApply(shard.matrix, shard.y, shard.firstRow, v, indices, -1, out);
    out[operatorDim(o)] = indices === null ? shard.matrix.rows : indices.length;
    return;
  }
  const delta = new Float64Array(u.length);
  for (let j = 0; j < u.length; j++) delta[j] = u[j]! - v[j]!;
  applyOperator(o, shard, delta, indices, false, out);
}
