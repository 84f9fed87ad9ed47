import { describe, expect, it } from 'vitest';
import { combineNodes, validateJobSpec } from '@optfleet/proto';
import { DirectExecutor } from './executor.js';
import { ShardHost } from './shard-host.js';

const spec = validateJobSpec({
  name: 't',
  seed: 3,
  problem: { kind: 'logistic', data: { source: 'synthetic', n: 100, d: 4 } },
  algorithm: { name: 'lbfgs' },
});

describe('ShardHost', () => {
  it('pre-reduces owned subtrees to the same bits as one host holding every shard', async () => {
    const w = Float64Array.from([0.1, -0.2, 0.3, 0.4]);
    const all = new ShardHost(new DirectExecutor());
    await all.open('j', spec, [0, 1, 2, 3, 4, 5], 6);
    const whole = await all.round('j', {
      op: 'loss-grad',
      points: [w],
      work: [0, 1, 2, 3, 4, 5].map((shard) => ({ shard, indices: null })),
    });
    expect(whole).toHaveLength(1);
    const a = new ShardHost(new DirectExecutor());
    const b = new ShardHost(new DirectExecutor());
    await a.open('j', spec, [0, 1, 2], 6);
    await b.open('j', spec, [3, 4, 5], 6);
    const na = await a.round('j', { op: 'loss-grad', points: [w], work: [0, 1, 2].map((shard) => ({ shard, indices: null })) });
    const nb = await b.round('j', { op: 'loss-grad', points: [w], work: [3, 4, 5].map((shard) => ({ shard, indices: null })) });
    expect(Array.from(combineNodes(6, [...na, ...nb])!)).toEqual(Array.from(whole[0]!.value));
  });

  it('reports shard sizes and rejects bad shard lists, unknown jobs and foreign shards', async () => {
    const h = new ShardHost(new DirectExecutor());
    const info = await h.open('j', spec, [1], 4);
    expect(info).toEqual([expect.objectContaining({ shard: 1, rows: 25, cols: 4, nnz: 100 })]);
    await expect(h.open('k', spec, [4], 4)).rejects.toThrowError(/open\.shards: shard 4 is outside \[0, 4\)/);
    await expect(h.open('k', spec, [1, 1], 4)).rejects.toThrowError(/listed twice/);
    await expect(h.round('nope', { op: 'loss-grad', points: [new Float64Array(4)], work: [] })).rejects.toThrowError(
      /job nope has no shards/,
    );
    await expect(
      h.round('j', { op: 'loss-grad', points: [new Float64Array(4)], work: [{ shard: 0, indices: null }] }),
    ).rejects.toThrowError(/shard 0 is not held/);
  });

  it('returns a task failure as an error value: wrong point length, row index past the shard', async () => {
    const h = new ShardHost(new DirectExecutor());
    await h.open('j', spec, [0], 2);
    await expect(
      h.round('j', { op: 'loss-grad', points: [new Float64Array(3)], work: [{ shard: 0, indices: null }] }),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/round\.points\[0\]: 3 values, the problem has dimension 4/),
    });
    await expect(
      h.round('j', { op: 'loss-grad', points: [new Float64Array(4)], work: [{ shard: 0, indices: Uint32Array.from([50]) }] }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/row 50 is past the shard's 50 rows/) });
  });

  it('reports a missing data file as NOT_FOUND before any round', async () => {
    const h = new ShardHost(new DirectExecutor());
    const fileSpec = validateJobSpec({
      name: 'f',
      problem: { kind: 'logistic', data: { source: 'file', format: 'libsvm', path: '/nonexistent/x.libsvm' } },
      algorithm: { name: 'lbfgs' },
    });
    await expect(h.open('j', fileSpec, [0], 1)).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringMatching(/\/nonexistent\/x\.libsvm/),
    });
  });

  it('keeps sticky per-shard state between rounds (SAGA table) and refuses saga-step before saga-init', async () => {
    const h = new ShardHost(new DirectExecutor());
    await h.open('j', spec, [0, 1], 2);
    const w = Float64Array.from([0.3, -0.1, 0.2, 0.5]);
    const all = [0, 1].map((shard) => ({ shard, indices: null }));
    await expect(
      h.round('j', { op: 'saga-step', points: [w], work: [{ shard: 0, indices: Uint32Array.from([1]) }] }),
    ).rejects.toMatchObject({
      code: 'FAILED_PRECONDITION',
      message: 'saga-step on shard 0 before saga-init',
    });
    const init = await h.round('j', { op: 'saga-init', points: [w], work: all });
    const lg = await h.round('j', { op: 'loss-grad', points: [w], work: all });
    expect(Array.from(init[0]!.value)).toEqual(Array.from(lg[0]!.value));
    // At the same point the table already holds every slope: the step's difference is exactly 0.
    const same = await h.round('j', { op: 'saga-step', points: [w], work: [{ shard: 1, indices: Uint32Array.from([0, 7, 9]) }] });
    expect(Array.from(same[0]!.value)).toEqual([0, 0, 0, 0, 3]);
    // At a new point the difference is Σ(ℓ'(w2) − ℓ'(w))x = grad-diff on those rows; then the table holds w2's slopes.
    const w2 = Float64Array.from([0.1, 0.1, -0.4, 0.2]);
    const rows = Uint32Array.from([2, 3, 40]);
    const diff = await h.round('j', { op: 'grad-diff', points: [w2, w], work: [{ shard: 1, indices: rows }] });
    const step = await h.round('j', { op: 'saga-step', points: [w2], work: [{ shard: 1, indices: rows }] });
    expect(Array.from(step[0]!.value)).toEqual(Array.from(diff[0]!.value));
    const again = await h.round('j', { op: 'saga-step', points: [w2], work: [{ shard: 1, indices: rows }] });
    expect(Array.from(again[0]!.value)).toEqual([0, 0, 0, 0, 3]);
    expect(h.holdings().bytes).toBeGreaterThan(100 * 5 * 8);
  });
});
