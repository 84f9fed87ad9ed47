/**
 * The piscina pool against the built worker package: batched dispatch gives the same bits as the
 * direct executor, a task that throws inside a thread becomes TASK_CRASHED (not a dead worker),
 * and the pool keeps serving afterwards.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { DirectExecutor, PoolExecutor, syntheticShard, type ShardData, type TaskInput } from '@optfleet/worker';

const shards = [0, 1, 2, 3, 4].map((s) => syntheticShard({ kind: 'logistic', seed: 8, d: 30, noise: 0 }, s, s * 400, (s + 1) * 400));
const w = Float64Array.from({ length: 30 }, (_, j) => Math.sin(j));

function inputs(list: readonly ShardData[]): TaskInput[] {
  return list.map((shard) => ({
    op: 'loss-grad',
    loss: 'logistic',
    shard,
    points: [w],
    indices: null,
    state: {},
    operator: null,
    mbbo: null,
  }));
}

describe('PoolExecutor', () => {
  const pool = new PoolExecutor({ threads: 2, inlineWork: 0 });
  afterAll(async () => pool.close());

  it('runs batches in threads with the same bits as the direct executor, results in input order', async () => {
    const direct = await new DirectExecutor().runMany(inputs(shards));
    const pooled = await pool.runMany(inputs(shards));
    expect(pooled.map((v) => Array.from(v))).toEqual(direct.map((v) => Array.from(v)));
    expect(pool.stats().completed).toBeGreaterThanOrEqual(2);
  });

  it('a task that throws in a thread becomes TASK_CRASHED naming the op and shard; the pool keeps working', async () => {
    const broken = {
      ...shards[1]!,
      matrix: { kind: 'csr', rows: 3, cols: 30, indptr: Int32Array.from([0, 1, 2, 3]) },
    } as unknown as ShardData;
    await expect(pool.runMany(inputs([broken]))).rejects.toMatchObject({
      code: 'TASK_CRASHED',
      message: expect.stringMatching(/task loss-grad on shard 1 crashed in a pool thread: .*undefined/),
    });
    const again = await pool.runMany(inputs(shards.slice(0, 2)));
    expect(again).toHaveLength(2);
  });

  it('an expected failure comes back as a value with its code', async () => {
    const bad: TaskInput = {
      op: 'loss-grad',
      loss: 'logistic',
      shard: shards[0]!,
      points: [new Float64Array(3)],
      indices: null,
      state: {},
      operator: null,
      mbbo: null,
    };
    await expect(pool.runMany([bad])).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/3 values, the problem has dimension 30/),
    });
  });

  it('small rounds run inline with the same bits', async () => {
    const small = new PoolExecutor({ threads: 2 });
    const rows = Uint32Array.from([1, 2, 3]);
    const item: TaskInput = {
      op: 'loss-grad',
      loss: 'logistic',
      shard: shards[2]!,
      points: [w],
      indices: rows,
      state: {},
      operator: null,
      mbbo: null,
    };
    const a = await small.runMany([item]);
    const b = await pool.runMany([item]);
    expect(Array.from(a[0]!)).toEqual(Array.from(b[0]!));
    expect(small.stats().completed).toBe(0);
    await small.close();
  });

  it('validates options naming the field', () => {
    expect(() => new PoolExecutor({ threads: 0 })).toThrowError(/options\.threads: must be an integer in \[1, 1024\], got 0/);
    expect(() => new PoolExecutor({ inlineWork: -1 })).toThrowError(/options\.inlineWork/);
  });
});
