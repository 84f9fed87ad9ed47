/**
 * Which I of the m blocks iteration t samples, as sorted global block ids (the reduction then runs
 * in block order). Keyed by (seed, t) only, so any coordinator (restarted or not) draws the same.
 * - uniform: I distinct blocks, uniformly (Floyd's algorithm), independently across iterations —
 *   what the analysis assumes.
 * - reshuffle: a fresh permutation of [m] every E = ⌊m/I⌋ iterations, consecutive chunks of I (the
 *   reference code; a block is never sampled twice within an epoch, spec §2.5).
 */
import { COORDINATOR_SHARD, KeyedRng } from '@optfleet/proto';

export function uniformBlocks(seed: number, t: number, m: number, I: number): Uint32Array {
  const rng = new KeyedRng(seed, t, COORDINATOR_SHARD, 'mbbo-blocks');
  const chosen = new Set<number>();
  for (let j = m - I; j < m; j++) {
    const r = rng.nextInt(j + 1);
    chosen.add(chosen.has(r) ? j : r);
  }
  return Uint32Array.from(chosen).sort();
}

/** The reshuffle schedule; caches the current epoch's permutation (derived data, not state). */
export class ReshuffleBlocks {
  private epoch = -1;
  private perm = new Uint32Array(0);

  constructor(
    private readonly seed: number,
    private readonly m: number,
    private readonly I: number,
  ) {}

  blocks(t: number): Uint32Array {
    const E = Math.max(1, Math.floor(this.m / this.I));
    const e = Math.floor(t / E);
    if (e !== this.epoch) {
      const rng = new KeyedRng(this.seed, e, COORDINATOR_SHARD, 'mbbo-epoch');
      const perm = new Uint32Array(this.m);
      for (let i = 0; i < this.m; i++) perm[i] = i;
      for (let i = this.m - 1; i > 0; i--) {
        const j = rng.nextInt(i + 1);
        const tmp = perm[i]!;
        perm[i] = perm[j]!;
        perm[j] = tmp;
      }
      this.perm = perm;
      this.epoch = e;
    }
    const k = t % E;
    return this.perm.slice(k * this.I, (k + 1) * this.I).sort();
  }
}
