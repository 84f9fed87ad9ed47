/** What operator tasks know about their problem, and the kernel dispatch for `op-eval`/`op-diff`. */
import { bilinearApply } from '../kernels/cpu/bilinear.js';
import { matrixGameApply } from '../kernels/cpu/matrix-game.js';
import type { BilinearGame } from '../shards/bilinear.js';
import type { ShardData } from '../shards/shard-data.js';

export type OperatorData =
  { readonly kind: 'bilinear-game'; readonly game: BilinearGame } | { readonly kind: 'matrix-game'; readonly size: number };

/** Dimension of the iterate u. */
export function operatorDim(o: OperatorData): number {
  return o.kind === 'bilinear-game' ? 2 * o.game.m : 2 * o.size;
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
  else matrixGameApply(o.size, shard.matrix, shard.firstRow, z, indices, out);
}
