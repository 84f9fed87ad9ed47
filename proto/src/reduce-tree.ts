/**
 * The fixed reduction tree over shard indices (DESIGN §3). Node [lo, hi) splits at
 * mid = (lo + hi) >>> 1. A node's value is left + right over the shards that took part in the
 * round, with absent subtrees skipped (never added as zeros, which could flip the sign of a zero).
 * A worker may pre-reduce any node whose shards it owns entirely; the coordinator combines what it
 * receives with the same recursion, so the sum is bit-identical whatever the placement.
 */

/** A pre-reduced node value. */
export interface TreeNodeValue {
  readonly lo: number;
  readonly hi: number;
  readonly value: Float64Array;
}

/** Adds b into a in place (same length). */
function addInto(a: Float64Array, b: Float64Array): Float64Array {
  const n = a.length;
  for (let i = 0; i < n; i++) a[i] = a[i]! + b[i]!;
  return a;
}

/**
 * Reduces node [lo, hi): `leaf(s)` gives shard s's value (or undefined if it did not take part);
 * `given(lo, hi)` may return an already reduced node. Returns undefined when no shard took part.
 * Values are consumed: the result may alias (and overwrite) an input array.
 */
export function reduceNode(
  lo: number,
  hi: number,
  leaf: (shard: number) => Float64Array | undefined,
  given?: (lo: number, hi: number) => Float64Array | undefined,
): Float64Array | undefined {
  const g = given?.(lo, hi);
  if (g !== undefined) return g;
  if (hi - lo === 1) return leaf(lo);
  const mid = (lo + hi) >>> 1;
  const left = reduceNode(lo, mid, leaf, given);
  const right = reduceNode(mid, hi, leaf, given);
  if (left === undefined) return right;
  if (right === undefined) return left;
  return addInto(left, right);
}

/**
 * The maximal tree nodes of [0, shardCount) made only of shards in `owned` (a worker's shards).
 * A worker sends one value per such node that holds at least one participating shard.
 */
export function ownedNodes(shardCount: number, owned: ReadonlySet<number>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const visit = (lo: number, hi: number): void => {
    let all = true;
    let any = false;
    for (let s = lo; s < hi; s++) {
      if (owned.has(s)) any = true;
      else all = false;
    }
    if (!any) return;
    if (all) {
      out.push([lo, hi]);
      return;
    }
    const mid = (lo + hi) >>> 1;
    visit(lo, mid);
    visit(mid, hi);
  };
  if (shardCount > 0) visit(0, shardCount);
  return out;
}

/** Pre-reduces a worker's shard results into owned nodes (nodes with no participating shard are omitted). */
export function preReduce(shardCount: number, owned: ReadonlySet<number>, results: ReadonlyMap<number, Float64Array>): TreeNodeValue[] {
  const out: TreeNodeValue[] = [];
  for (const [lo, hi] of ownedNodes(shardCount, owned)) {
    const v = reduceNode(lo, hi, (s) => results.get(s));
    if (v !== undefined) out.push({ lo, hi, value: v });
  }
  return out;
}

/** Combines pre-reduced node values from all workers into the root value (undefined if none). */
export function combineNodes(shardCount: number, nodes: readonly TreeNodeValue[]): Float64Array | undefined {
  const byKey = new Map<string, Float64Array>();
  for (const n of nodes) byKey.set(`${n.lo}:${n.hi}`, n.value);
  return reduceNode(
    0,
    shardCount,
    () => undefined,
    (lo, hi) => byKey.get(`${lo}:${hi}`),
  );
}
