/**
 * Locality-aware placement of agents on shards (spec §5): a hash placement makes most hops cross
 * shards, so RGGs are cut spatially (k-d splits of the unit square) and other graphs are grown
 * breadth-first from their lowest unassigned node. Pure functions of (graph, shard count).
 */
import { shardRange } from '../protocol.js';
import type { Graph } from './graph.js';

/** Shard of every node. Shards get ⌊N/S⌋ or ⌈N/S⌉ agents (some are empty when S > N). */
export function partitionGraph(g: Graph, shards: number): Int32Array {
  return g.pos !== null ? spatialPartition(g, shards) : growPartition(g, shards);
}

function spatialPartition(g: Graph, shards: number): Int32Array {
  const pos = g.pos!;
  const shardOf = new Int32Array(g.n);
  const split = (nodes: number[], first: number, k: number): void => {
    if (k === 1) {
      for (const i of nodes) shardOf[i] = first;
      return;
    }
    // Cut along the axis with the larger spread, ties broken by node id (deterministic).
    const lo = [Infinity, Infinity];
    const hi = [-Infinity, -Infinity];
    for (const i of nodes) {
      for (const ax of [0, 1]) {
        lo[ax] = Math.min(lo[ax]!, pos[2 * i + ax]!);
        hi[ax] = Math.max(hi[ax]!, pos[2 * i + ax]!);
      }
    }
    const ax = hi[0]! - lo[0]! >= hi[1]! - lo[1]! ? 0 : 1;
    const sorted = [...nodes].sort((p, q) => pos[2 * p + ax]! - pos[2 * q + ax]! || p - q);
    const kl = Math.floor(k / 2);
    const cut = Math.round((sorted.length * kl) / k);
    split(sorted.slice(0, cut), first, kl);
    split(sorted.slice(cut), first + kl, k - kl);
  };
  split(
    Array.from({ length: g.n }, (_, i) => i),
    0,
    shards,
  );
  return shardOf;
}

function growPartition(g: Graph, shards: number): Int32Array {
  const shardOf = new Int32Array(g.n).fill(-1);
  const queue = new Int32Array(g.n);
  let nextSeed = 0;
  for (let s = 0; s < shards; s++) {
    const [a, b] = shardRange(g.n, shards, s);
    let want = b - a;
    let head = 0;
    let tail = 0;
    while (want > 0) {
      if (head === tail) {
        while (shardOf[nextSeed] !== -1) nextSeed++;
        queue[tail++] = nextSeed;
        shardOf[nextSeed] = s;
        want--;
        continue;
      }
      const i = queue[head++]!;
      for (let e = g.ptr[i]!; e < g.ptr[i + 1]! && want > 0; e++) {
        const j = g.adj[e]!;
        if (shardOf[j] === -1) {
          shardOf[j] = s;
          queue[tail++] = j;
          want--;
        }
      }
    }
  }
  return shardOf;
}

/** Where each node's visit-measure entry lives: in the token (boundary) or on its shard (interior). */
export interface VisitLayout {
  readonly shardOf: Int32Array;
  /** Per node: boundary index ≥ 0 (carried by the token), or −1 − (index among its shard's interior nodes). */
  readonly slot: Int32Array;
  /** Nodes whose entry travels with the token. */
  readonly boundary: number;
  /** Interior nodes per shard. */
  readonly interior: Int32Array;
  /** Agents per shard, and each node's index among its shard's agents (ascending node id). */
  readonly size: Int32Array;
  readonly local: Int32Array;
}

/**
 * Option B of spec §5 ('split'): a node with a neighbour on another shard is boundary, the rest is
 * interior. Option A ('token'): every node is boundary (the token carries all of x).
 */
export function visitLayout(g: Graph, shardOf: Int32Array, shards: number, mode: 'split' | 'token'): VisitLayout {
  const slot = new Int32Array(g.n);
  const interior = new Int32Array(shards);
  const size = new Int32Array(shards);
  const local = new Int32Array(g.n);
  let boundary = 0;
  for (let i = 0; i < g.n; i++) {
    const s = shardOf[i]!;
    local[i] = size[s]!++;
    let crosses = mode === 'token';
    for (let e = g.ptr[i]!; e < g.ptr[i + 1]! && !crosses; e++) crosses = shardOf[g.adj[e]!] !== s;
    slot[i] = crosses ? boundary++ : -1 - interior[s]!++;
  }
  return { shardOf, slot, boundary, interior, size, local };
}
