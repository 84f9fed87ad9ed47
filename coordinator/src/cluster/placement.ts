/**
 * Contiguous placement: worker k of W (in the given order) owns shards
 * [floor(k·S/W), floor((k+1)·S/W)). Aligned ranges let a worker pre-reduce whole subtrees of the
 * reduction tree, so a round costs about one vector per worker. Results never depend on placement.
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
