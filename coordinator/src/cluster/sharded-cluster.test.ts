import { describe, expect, it } from 'vitest';
import { ownedNodes, validateJobSpec, type JobSpec, type Op, type TreeNodeValue } from '@optfleet/proto';
import type { ShardSummary, WorkerEndpoint } from './cluster.js';
import { placeShards } from './placement.js';
import { ShardedCluster } from './sharded-cluster.js';

const spec = validateJobSpec({
  name: 'x',
  problem: { kind: 'logistic', data: { source: 'synthetic', n: 40, d: 2 } },
  algorithm: { name: 'lbfgs' },
});

/** Each shard has 10 rows; a shard's result records which local rows it was asked for. */
class FakeWorker implements WorkerEndpoint {
  calls: Array<{ shard: number; indices: number[] | null }> = [];
  owned = new Set<number>();
  constructor(
    readonly id: string,
    private readonly bad?: 'foreign' | 'length',
  ) {}
  get name(): string {
    return this.id;
  }
  open(_j: string, _s: JobSpec, shards: readonly number[]): Promise<ShardSummary[]> {
    shards.forEach((s) => this.owned.add(s));
    return Promise.resolve(shards.map((shard) => ({ shard, rows: 10, cols: 2, nnz: 20, maxRowNormSq: 1, lipschitz: 0, bytes: 160 })));
  }
  round(
    _j: string,
    _op: Op,
    _p: readonly Float64Array[],
    work: ReadonlyArray<{ shard: number; indices: Uint32Array | null }>,
    expected: number,
  ): Promise<{ nodes: TreeNodeValue[]; bytesOut: number; bytesIn: number }> {
    for (const w of work) this.calls.push({ shard: w.shard, indices: w.indices === null ? null : Array.from(w.indices) });
    const nodes = ownedNodes(4, this.owned).map(([lo, hi]) => ({
      lo,
      hi,
      value: new Float64Array(this.bad === 'length' ? expected + 1 : expected).fill(1),
    }));
    if (this.bad === 'foreign') nodes.push({ lo: 0, hi: 4, value: new Float64Array(expected) });
    return Promise.resolve({ nodes, bytesOut: 0, bytesIn: 0 });
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

describe('ShardedCluster', () => {
  it('places contiguous blocks', () => {
    expect(placeShards(8, 3)).toEqual([
      [0, 1],
      [2, 3, 4],
      [5, 6, 7],
    ]);
    expect(placeShards(2, 3)).toEqual([[], [0], [1]]);
  });

  it('maps sampled global rows to each owner as shard-local indices, in the order drawn', async () => {
    const a = new FakeWorker('a');
    const b = new FakeWorker('b');
    const c = new ShardedCluster([a, b]);
    const layout = await c.open('j', spec, 4);
    expect(layout.rowOffsets).toEqual([0, 10, 20, 30, 40]);
    expect(layout.owners).toEqual(['a', 'a', 'b', 'b']);
    await c.round({ op: 'loss-grad', points: [new Float64Array(2)], rows: Uint32Array.from([35, 3, 12, 3, 39]) });
    expect(a.calls).toEqual([
      { shard: 0, indices: [3, 3] },
      { shard: 1, indices: [2] },
    ]);
    expect(b.calls).toEqual([{ shard: 3, indices: [5, 9] }]);
  });

  it('rejects a row past the data and a point of the wrong length', async () => {
    const c = new ShardedCluster([new FakeWorker('a')]);
    await c.open('j', spec, 4);
    await expect(c.round({ op: 'loss-grad', points: [new Float64Array(2)], rows: Uint32Array.from([40]) })).rejects.toThrowError(
      /row 40 is past the job's 40 rows/,
    );
    await expect(c.round({ op: 'loss-grad', points: [new Float64Array(3)], rows: 'all' })).rejects.toThrowError(
      /round\.points\[0\]: 3 values for 2 features/,
    );
  });

  it('rejects result nodes a worker does not own or of the wrong length, naming the worker', async () => {
    const c1 = new ShardedCluster([new FakeWorker('good'), new FakeWorker('liar', 'foreign')]);
    await c1.open('j', spec, 4);
    await expect(c1.round({ op: 'loss-grad', points: [new Float64Array(2)], rows: 'all' })).rejects.toThrowError(
      /worker liar: result node \[0, 4\) covers shard 0/,
    );
    const c2 = new ShardedCluster([new FakeWorker('long', 'length')]);
    await c2.open('j', spec, 4);
    await expect(c2.round({ op: 'loss-grad', points: [new Float64Array(2)], rows: 'all' })).rejects.toThrowError(
      /worker long: .* has 5 values, expected 4/,
    );
  });
});
