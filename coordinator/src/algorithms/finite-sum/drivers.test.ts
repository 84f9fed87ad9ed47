import { describe, expect, it } from 'vitest';
import { KeyedRng, validateJobSpec } from '@optfleet/proto';
import { sampleDistinctRows } from './objective.js';
import { runJob } from '../../jobs/runner.js';
import { leastSquaresOptimum, TinyCluster, tinyProblem } from '../../test-support.js';
import { SvrgDriver } from './svrg/driver.js';
import type { ProblemInfo } from '../driver.js';

function spec(algorithm: Record<string, unknown>, stop: Record<string, unknown> = {}, l2 = 0.01) {
  return validateJobSpec({
    name: 't',
    seed: 11,
    problem: { kind: 'least-squares', l2, data: { source: 'synthetic', n: 200, d: 5 } },
    algorithm,
    stop: { gradNorm: 1e-10, maxRounds: 200_000, ...stop },
  });
}

function distance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(s);
}

describe('finite-sum drivers on a least-squares problem with a closed-form optimum', () => {
  const p = tinyProblem('least-squares', 200, 5, 1);
  const wStar = leastSquaresOptimum(p, 0.01);

  for (const alg of [{ name: 'svrg', batchSize: 8 }, { name: 'saga', batchSize: 8, evalEvery: 200 }, { name: 'lbfgs' }] as const) {
    it(`${alg.name} reaches the optimum to 1e-8`, async () => {
      const out = await runJob('j', spec(alg), new TinyCluster(p), 1);
      expect(out.final.gradNorm).toBeLessThanOrEqual(1e-10);
      expect(distance(out.final.x, wStar)).toBeLessThan(1e-8);
      expect(out.final.stopReason).toMatch(/gradNorm/);
    });
  }

  it('lbfgs near float64 noise takes approximate-Wolfe steps instead of stalling (few rounds to 1e-12)', async () => {
    // Targets near ‖∇f‖ ≈ 1e-11 put Armijo's f-differences below one ulp of f.
    for (const [seed, l2, tol] of [
      [1, 0.01, 1e-12],
      [3, 0.1, 1e-11],
      [4, 1, 1e-11],
    ] as const) {
      const q = tinyProblem('least-squares', 1000, 5, seed);
      const out = await runJob('j', spec({ name: 'lbfgs' }, { gradNorm: tol, maxRounds: 500 }, l2), new TinyCluster(q), 1);
      expect(out.final.gradNorm, `seed ${seed}`).toBeLessThanOrEqual(tol);
      expect(out.final.rounds).toBeLessThan(60);
    }
  });

  it('sgd with decaying steps gets close, and counts evaluation rounds apart', async () => {
    const out = await runJob(
      'j',
      spec({ name: 'sgd', batchSize: 20, decaySteps: 100, evalEvery: 500 }, { maxRounds: 3000 }),
      new TinyCluster(p),
      1,
    );
    // SGD only reaches a noise ball: a loose bound suits a baseline.
    expect(distance(out.final.x, wStar)).toBeLessThan(0.1);
    expect(out.final.oracleCalls).toBe(3000 * 20);
    // evaluations at steps 0, 500, ..., 2500 plus the closing one at 3000
    expect(out.final.evaluationRounds).toBe(7);
    expect(out.final.evaluationCalls).toBe(7 * 200);
    expect(out.final.rounds).toBe(3007);
  });

  it('counts SVRG oracle calls exactly: n per snapshot, 2b per inner step', async () => {
    const cluster = new TinyCluster(p);
    const out = await runJob('j', spec({ name: 'svrg', batchSize: 8, innerSteps: 10 }, { maxRounds: 33, gradNorm: 0 }), cluster, 1);
    // 33 rounds = 3 epochs of (1 snapshot + 10 inner); then one closing evaluation round.
    expect(out.final.oracleCalls).toBe(3 * 200 + 30 * 16);
    expect(out.final.rounds).toBe(34);
    expect(cluster.rounds).toBe(34);
    expect(out.history).toHaveLength(3);
    expect(out.history.map((h) => h.oracleCalls)).toEqual([200, 200 + 160 + 200, 2 * (200 + 160) + 200]);
  });

  it('fails DIVERGED with a clear message when the step size is far too large', async () => {
    await expect(
      runJob('j', spec({ name: 'sgd', batchSize: 20, stepSize: 1e5, evalEvery: 5 }), new TinyCluster(p), 1),
    ).rejects.toMatchObject({
      code: 'DIVERGED',
      message: expect.stringMatching(/diverged \(lower the step size\)/),
    });
  });

  it('saga counts n for the table, b per step, and evaluations apart', async () => {
    const out = await runJob('j', spec({ name: 'saga', batchSize: 8, evalEvery: 10 }, { maxRounds: 31, gradNorm: 0 }), new TinyCluster(p), 1);
    // round 1 = saga-init (n calls, algorithm); 30 steps of 8; evaluations at steps 10, 20, 30.
    expect(out.final.oracleCalls).toBe(200 + 30 * 8);
    expect(out.final.evaluationRounds).toBe(3);
    expect(out.final.rounds).toBe(34);
  });

  it('distinct-row sampling returns b distinct ascending rows in range', () => {
    const rows = sampleDistinctRows(new KeyedRng(1, 2, 3, 'x'), 50, 20);
    expect(rows).toHaveLength(20);
    expect(new Set(rows).size).toBe(20);
    expect([...rows].every((r, i) => r < 50 && (i === 0 || r > rows[i - 1]!))).toBe(true);
    expect(Array.from(sampleDistinctRows(new KeyedRng(1, 2, 3, 'x'), 5, 5))).toEqual([0, 1, 2, 3, 4]);
  });

  it('a restored SVRG driver continues bit-identically', () => {
    const info: ProblemInfo = { kind: 'least-squares', n: 200, d: 5, l2: 0.01, lMax: 3, seed: 4 };
    const cluster = new TinyCluster(p);
    const step = async (d: SvrgDriver): Promise<void> => {
      const a = d.ask();
      if (a.kind !== 'round') throw new Error('round expected');
      d.tell((await cluster.round({ op: a.op, points: a.points, rows: a.rows })).sum);
    };
    return (async () => {
      const a = new SvrgDriver(info, { batchSize: 4, innerSteps: 5 });
      for (let i = 0; i < 13; i++) await step(a);
      const b = new SvrgDriver(info, { batchSize: 4, innerSteps: 5 });
      b.restore(JSON.parse(JSON.stringify(a.snapshot())) as ReturnType<SvrgDriver['snapshot']>);
      for (let i = 0; i < 9; i++) {
        await step(a);
        await step(b);
      }
      expect(Array.from(b.iterate())).toEqual(Array.from(a.iterate()));
    })();
  });
});
