import { describe, expect, it } from 'vitest';
import { combineNodes, ownedNodes, preReduce, reduceNode } from './reduce-tree.js';
import { KeyedRng } from './rng.js';

function shardValues(S: number, d: number, seed: number): Float64Array[] {
  const rng = new KeyedRng(seed, 0, 0, 'tree-test');
  // Values with wildly different magnitudes so any change of summation order changes bits.
  return Array.from({ length: S }, () => Float64Array.from({ length: d }, () => rng.nextNormal() * 10 ** rng.nextInt(12)));
}

function bits(a: Float64Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');
}

describe('reduction tree', () => {
  it('gives the same bits for every placement of shards on workers', () => {
    for (const S of [1, 2, 3, 7, 8, 13, 64]) {
      const vals = shardValues(S, 5, S);
      const reference = reduceNode(0, S, (s) => vals[s]!.slice())!;
      for (let W = 1; W <= Math.min(S, 6); W++) {
        // Random (non-contiguous) placement as well as contiguous blocks.
        for (const mode of ['blocks', 'random']) {
          const rng = new KeyedRng(W, S, 0, mode);
          const owner = Array.from({ length: S }, (_, s) => (mode === 'blocks' ? Math.floor((s * W) / S) : rng.nextInt(W)));
          const nodes = [];
          for (let w = 0; w < W; w++) {
            const owned = new Set(owner.flatMap((o, s) => (o === w ? [s] : [])));
            const results = new Map([...owned].map((s) => [s, vals[s]!.slice()] as const));
            nodes.push(...preReduce(S, owned, results));
          }
          expect(bits(combineNodes(S, nodes)!)).toBe(bits(reference));
        }
      }
    }
  });

  it('skips shards that did not take part instead of adding zeros (keeps -0)', () => {
    const v = new Float64Array([-0]);
    const out = reduceNode(0, 4, (s) => (s === 2 ? v : undefined))!;
    expect(Object.is(out[0], -0)).toBe(true);
    expect(reduceNode(0, 4, () => undefined)).toBeUndefined();
  });

  it('lists maximal owned subtrees', () => {
    expect(ownedNodes(8, new Set([0, 1, 2, 3]))).toEqual([[0, 4]]);
    expect(ownedNodes(8, new Set([2, 3, 4]))).toEqual([
      [2, 4],
      [4, 5],
    ]);
    expect(ownedNodes(3, new Set([0, 1, 2]))).toEqual([[0, 3]]);
  });
});
