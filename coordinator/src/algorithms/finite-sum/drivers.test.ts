import { describe, expect, it } from 'vitest';
import { COORDINATOR_SHARD, KeyedRng, validateJobSpec } from '@optfleet/proto';
import { fullObjective, sampleDistinctRows } from './objective.js';
import { runJob } from '../../jobs/runner.js';
import { leastSquaresOptimum, TinyCluster, tinyProblem } from '../../test-support.js';
import { SvrgDriver } from './svrg/driver.js';
import { LsvrgDriver } from './lsvrg/driver.js';
import { PageDriver } from './page/driver.js';
import { SarahDriver } from './sarah/driver.js';
import type { Driver, Observation, ProblemInfo } from '../driver.js';

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

/** One ask → round → tell on the cluster. */
async function step(cluster: TinyCluster, d: Driver): Promise<Observation | null> {
  const a = d.ask();
  if (a.kind !== 'round') throw new Error('round expected');
  return d.tell((await cluster.round({ op: a.op, points: a.points, rows: a.rows })).sum);
}

/** ∇f at x from one full loss-grad round. */
async function fullGrad(cluster: TinyCluster, info: ProblemInfo, x: Float64Array): Promise<Float64Array> {
  return fullObjective(info, x, (await cluster.round({ op: 'loss-grad', points: [x], rows: 'all' })).sum).grad;
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

  // Default step sizes and p; only the batch sizes are the test's own.
  for (const alg of [{ name: 'lsvrg', batchSize: 8 }, { name: 'sarah', batchSize: 8 }, { name: 'page' }] as const) {
    it(`${alg.name} reaches the optimum to 1e-8 with its default step size`, async () => {
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

  it('counts L-SVRG oracle calls exactly: n to start, 2b per step, n per snapshot (p = 1: after every step)', async () => {
    const cluster = new TinyCluster(p);
    const out = await runJob('j', spec({ name: 'lsvrg', batchSize: 8, p: 1 }, { maxRounds: 21, gradNorm: 0 }), cluster, 1);
    // 21 rounds = the start + 10 × (step, snapshot); the last snapshot observed the final iterate.
    expect(out.final.oracleCalls).toBe(200 + 10 * (16 + 200));
    expect(out.final.iterations).toBe(10);
    expect(out.final.rounds).toBe(21);
    expect(out.final.evaluationRounds).toBe(0);
    expect(cluster.rounds).toBe(21);
    expect(out.history.map((h) => h.iteration)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('counts L-SVRG snapshots as the keyed coin draws them (default p = b/n)', async () => {
    const out = await runJob('j', spec({ name: 'lsvrg', batchSize: 8 }, { maxRounds: 300, gradNorm: 0 }), new TinyCluster(p), 1);
    // Replay the coordinator's coin: after step t (t = 1, 2, ...) a snapshot with probability 8/200.
    let rounds = 1;
    let calls = 200;
    let snapshots = 1;
    for (let t = 1; rounds < 300; t++) {
      rounds++;
      calls += 16;
      if (rounds < 300 && new KeyedRng(11, t, COORDINATOR_SHARD, 'lsvrg-coin').nextFloat() < 8 / 200) {
        rounds++;
        calls += 200;
        snapshots++;
      }
    }
    expect(snapshots).toBeGreaterThan(3);
    expect(out.final.oracleCalls).toBe(calls);
    expect(out.history).toHaveLength(snapshots);
  });

  it('counts SARAH oracle calls exactly: m steps per outer loop, n + 2b(m − 1) calls', async () => {
    const cluster = new TinyCluster(p);
    const out = await runJob('j', spec({ name: 'sarah', batchSize: 8, innerSteps: 10 }, { maxRounds: 31, gradNorm: 0 }), cluster, 1);
    // 31 rounds = ∇f(x₀), then 3 outer loops of 9 grad-diff steps and the full gradient at x₁₀, x₂₀, x₃₀.
    expect(out.final.oracleCalls).toBe(4 * 200 + 27 * 16);
    expect(out.final.iterations).toBe(30);
    expect(out.final.rounds).toBe(31);
    expect(out.final.evaluationRounds).toBe(0);
    expect(out.history.map((h) => [h.iteration, h.oracleCalls])).toEqual([
      [0, 200],
      [10, 544],
      [20, 888],
      [30, 1232],
    ]);
  });

  it('counts PAGE oracle calls exactly: n per full-gradient step, 2b′ otherwise, as the keyed coin draws them', async () => {
    // n = 200: b′ = ⌈√200⌉ = 15, p = 15/215.
    const out = await runJob('j', spec({ name: 'page' }, { maxRounds: 120, gradNorm: 0 }), new TinyCluster(p), 1);
    let calls = 200;
    let full = 1;
    let lastFull = true;
    for (let t = 0; t < 119; t++) {
      lastFull = new KeyedRng(11, t, COORDINATOR_SHARD, 'page-coin').nextFloat() < 15 / 215;
      calls += lastFull ? 200 : 30;
      if (lastFull) full++;
    }
    expect(full).toBeGreaterThan(3);
    expect(out.final.oracleCalls).toBe(calls);
    expect(out.final.iterations).toBe(119);
    expect(out.history).toHaveLength(full);
    expect(out.final.evaluationRounds).toBe(lastFull ? 0 : 1);

    const all = await runJob('j', spec({ name: 'page', p: 1 }, { maxRounds: 11, gradNorm: 0 }), new TinyCluster(p), 1);
    expect(all.final.oracleCalls).toBe(11 * 200);
    expect(all.final.rounds).toBe(11);
    expect(all.history.map((h) => h.iteration)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('PAGE reports the drift ‖g_t − ∇f(x_{t+1})‖ on every full gradient but the first', async () => {
    const info: ProblemInfo = { kind: 'least-squares', family: 'minimization', n: 200, d: 5, l2: 0.01, lMax: 3, seed: 4 };
    const cluster = new TinyCluster(p);
    const d = new PageDriver(info, { batchSize: 10, p: 0.2 });
    const obs: Observation[] = [];
    for (let i = 0; i < 60; i++) {
      const o = await step(cluster, d);
      if (o !== null) obs.push(o);
    }
    expect(obs.length).toBeGreaterThan(3);
    expect(obs[0]!.drift).toBeUndefined();
    for (const o of obs.slice(1)) expect(o.drift).toBeGreaterThan(0);
    // With p = 1 the estimator is the previous full gradient, so the drift is ‖∇f(x_t) − ∇f(x_{t+1})‖.
    const q = new PageDriver(info, { p: 1 });
    const a = (await step(cluster, q))!;
    const b = (await step(cluster, q))!;
    const ga = await fullGrad(cluster, info, a.x);
    const gb = await fullGrad(cluster, info, b.x);
    expect(b.drift).toBe(Math.sqrt(ga.reduce((s, v, j) => s + (v - gb[j]!) ** 2, 0)));
  });

  it('PAGE with driftCheck measures ‖g̃(x) − ∇f(x)‖ at the same point: 0 up to rounding when b′ = n', async () => {
    const run = async (batchSize: number) =>
      runJob('j', spec({ name: 'page', batchSize, p: 0.3, driftCheck: true }, { maxRounds: 60, gradNorm: 0 }), new TinyCluster(p), 1);
    const exact = await run(200);
    const drifts = exact.history.map((h) => h.drift).filter((v): v is number => v !== undefined);
    expect(drifts.length).toBeGreaterThan(3);
    for (const v of drifts) expect(v).toBeLessThan(1e-12);
    // Each drift check is one evaluation round of 2b′ calls, counted apart from the algorithm's.
    expect(exact.final.evaluationCalls).toBe(drifts.length * 2 * 200 + (exact.final.evaluationRounds - drifts.length) * 200);
    const sampled = await run(10);
    const d2 = sampled.history.map((h) => h.drift).filter((v): v is number => v !== undefined);
    expect(d2.some((v) => v > 1e-6)).toBe(true);
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
    const out = await runJob(
      'j',
      spec({ name: 'saga', batchSize: 8, evalEvery: 10 }, { maxRounds: 31, gradNorm: 0 }),
      new TinyCluster(p),
      1,
    );
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

  for (const [name, make] of [
    ['PAGE', (info: ProblemInfo) => new PageDriver(info, { batchSize: 4, p: 0.3 })],
    ['SARAH', (info: ProblemInfo) => new SarahDriver(info, { batchSize: 4, innerSteps: 5 })],
    ['L-SVRG', (info: ProblemInfo) => new LsvrgDriver(info, { batchSize: 4, p: 0.3 })],
  ] as const) {
    it(`a restored ${name} driver continues bit-identically`, async () => {
      const info: ProblemInfo = { kind: 'least-squares', family: 'minimization', n: 200, d: 5, l2: 0.01, lMax: 3, seed: 4 };
      const cluster = new TinyCluster(p);
      const a = make(info);
      for (let i = 0; i < 13; i++) await step(cluster, a);
      const b = make(info);
      b.restore(JSON.parse(JSON.stringify(a.snapshot())) as ReturnType<Driver['snapshot']>);
      expect(b.iterations()).toBe(a.iterations());
      for (let i = 0; i < 17; i++) {
        const oa = await step(cluster, a);
        const ob = await step(cluster, b);
        expect(ob).toEqual(oa);
      }
      expect(Array.from(b.iterate())).toEqual(Array.from(a.iterate()));
      expect(a.iterations()).toBeGreaterThan(15);
    });
  }

  it('a restored SVRG driver continues bit-identically', () => {
    const info: ProblemInfo = { kind: 'least-squares', family: 'minimization', n: 200, d: 5, l2: 0.01, lMax: 3, seed: 4 };
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
