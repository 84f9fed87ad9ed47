/**
 * Shard placement. Results never depend on placement (the reduction tree is fixed over shard
 * indices), so placement is free to optimise for movement and balance:
 *
 * - `rendezvousPlacement`: rendezvous (highest-random-weight) hashing with a load cap. Each shard
 *   ranks the workers by a hash of (worker id, shard) and goes to the best-ranked worker that still
 *   has room under ⌈S/W⌉. When a worker joins or leaves, only the shards whose ranking it changes
 *   move (about S/W of them, plus the few the cap pushes on), so a rebalance moves little state.
 * - `placeShards`: contiguous ranges (kept for tools and tests that want aligned subtrees).
 */

/** 32-bit FNV-1a of a string, finished with murmur3's fmix32 (good avalanche for short ids). */
export function hashId(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The rendezvous weight of `shard` on a worker whose id hashes to `idHash`. */
export function rendezvousWeight(idHash: number, shard: number): number {
  return fmix32((idHash ^ Math.imul(shard + 1, 0x9e3779b9)) >>> 0);
}

/**
 * Owner (index into `workerIds`) of each of `shardCount` shards. Deterministic in the set of ids
 * and independent of their order. Every worker gets at most ⌈S/W⌉ shards.
 */
export function rendezvousPlacement(shardCount: number, workerIds: readonly string[]): number[] {
  const W = workerIds.length;
  if (W === 0) throw new Error('rendezvousPlacement: no workers');
  // Work in a canonical order (sorted ids) so the result does not depend on the order given.
  const order = workerIds.map((id, k) => ({ id, k, h: hashId(id) })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.k - b.k));
  const cap = Math.ceil(shardCount / W);
  // Each shard's workers, best first (ties broken by canonical position).
  const ranking: Int32Array[] = [];
  for (let s = 0; s < shardCount; s++) {
    const weights = order.map((w, i) => ({ i, wt: rendezvousWeight(w.h, s) }));
    weights.sort((a, b) => b.wt - a.wt || a.i - b.i);
    ranking.push(Int32Array.from(weights, (x) => x.i));
  }
  const owner = new Array<number>(shardCount).fill(-1);
  const load = new Int32Array(W);
  // Rank by rank: every shard first tries its favourite, then the next, … so first choices win.
  for (let r = 0; r < W; r++) {
    for (let s = 0; s < shardCount; s++) {
      if (owner[s] !== -1) continue;
      const i = ranking[s]![r]!;
      if (load[i]! < cap) {
        owner[s] = i;
        load[i]!++;
      }
    }
  }
  return owner.map((i) => order[i]!.k);
}

/**
 * Contiguous placement: worker k of W (in the given order) owns shards
 * [floor(k·S/W), floor((k+1)·S/W)). Aligned ranges let a worker pre-reduce whole subtrees.
 */
export function placeShards(shardCount: number, workers: number): number[][] {
  const out: number[][] = [];
  for (let k = 0; k < workers; k++) {
    const a = Math.floor((k * shardCount) / workers);
    const b = Math.floor(((k + 1) * shardCount) / workers);
    const list: number[] = [];
    for (let s = a; s < b; s++) list.push(s);
    out.push(list);
  }
  return out;
}
