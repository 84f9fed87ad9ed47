/**
 * Deterministic tests of the SRRW kernel and token walk (spec §4(a) "deterministic unit tests"):
 * rows of K sum to 1, K[μ] = P, K[c·x] = K[x], detailed balance with respect to π[x], α = 0 is the
 * MHRW base chain bit for bit, and a token handed between shards (or between rounds) walks the
 * same bits as one walking on a single shard.
 */
import { describe, expect, it } from 'vitest';
import { COORDINATOR_SHARD, KeyedRng, TOKEN, TOKEN_PARAMS } from '@optfleet/proto';
import { kernelRow, walkScratch, walkToken, type WalkGraph } from './srrw-walk.js';
import { startToken, walkFixture, walkToEnd, type WalkFixture } from './srrw-fixture.js';

const g12Spec = (alpha: number[], extra: Record<string, unknown> = {}) => ({
  name: 't',
  seed: 5,
  problem: { kind: 'graph-token', graph: { source: 'g12' } },
  algorithm: { name: 'sa-srrw', alpha, a: 0.7, b: 1, tokens: 1, steps: 3000, ...extra },
});

const rggSpec = (alpha: number[], shardsVisits: 'split' | 'token' = 'split') => ({
  name: 't',
  seed: 11,
  problem: { kind: 'graph-token', graph: { source: 'rgg', nodes: 120 }, loss: 'logistic', points: 5, features: 4, visits: shardsVisits },
  algorithm: { name: 'sa-srrw', alpha, a: 0.6, b: 1, tokens: 1, steps: 4000 },
});

/** Random positive x (as r = log(x/μ)) for every node. */
function randomR(n: number, seed: number): Float64Array {
  const rng = new KeyedRng(seed, 0, COORDINATOR_SHARD, 'test-x');
  return Float64Array.from({ length: n }, () => 3 * rng.nextNormal());
}

function row(g: WalkGraph, i: number, alpha: number, r: Float64Array): Float64Array {
  const out = new Float64Array(g.rowPtr[i + 1]! - g.rowPtr[i]!);
  kernelRow(g, i, alpha, (j) => r[j]!, out);
  return out;
}

describe('SRRW kernel K[x]', () => {
  for (const name of ['g12', 'rgg'] as const) {
    it(`${name}: rows sum to 1, K[μ] = P, K[c·x] = K[x]`, async () => {
      const f = await walkFixture(name === 'g12' ? g12Spec([1]) : rggSpec([1]), 1);
      const g = f.job.walk;
      const r = randomR(g.n, 1);
      const zero = new Float64Array(g.n);
      const shifted = r.map((v) => v + Math.log(37.5));
      for (let i = 0; i < g.n; i++) {
        const p = g.prob.subarray(g.rowPtr[i]!, g.rowPtr[i + 1]!);
        for (const alpha of [0, 0.5, 2, 20]) {
          const k = row(g, i, alpha, r);
          expect(Math.abs(k.reduce((s, v) => s + v, 0) - 1)).toBeLessThan(1e-12);
          // K[μ] = P: x = μ means r = 0.
          const km = row(g, i, alpha, zero);
          for (let e = 0; e < p.length; e++) expect(Math.abs(km[e]! - p[e]!)).toBeLessThan(1e-15);
          const kc = row(g, i, alpha, shifted);
          for (let e = 0; e < p.length; e++) expect(Math.abs(kc[e]! - k[e]!)).toBeLessThanOrEqual(1e-12 * Math.max(1e-300, k[e]!) + 1e-300);
        }
      }
    });

    it(`${name}: detailed balance with respect to π[x]_i ∝ μ_i (x_i/μ_i)^(−α) Σ_j P_ij (x_j/μ_j)^(−α)`, async () => {
      const f = await walkFixture(name === 'g12' ? g12Spec([1]) : rggSpec([1]), 1);
      const g = f.job.walk;
      for (const [alpha, seed] of [
        [0.7, 2],
        [3, 3],
        [20, 4],
      ] as const) {
        // Small spread at α = 20 keeps (x/μ)^(−α) within double range for π.
        const r = randomR(g.n, seed).map((v) => v / alpha);
        const pi = new Float64Array(g.n);
        for (let i = 0; i < g.n; i++) {
          let s = 0;
          for (let e = g.rowPtr[i]!; e < g.rowPtr[i + 1]!; e++) s += g.prob[e]! * Math.exp(-alpha * r[g.col[e]!]!);
          pi[i] = Math.exp(g.lmu[i]!) * Math.exp(-alpha * r[i]!) * s;
        }
        for (let i = 0; i < g.n; i++) {
          const ki = row(g, i, alpha, r);
          for (let e = g.rowPtr[i]! + 1; e < g.rowPtr[i + 1]!; e++) {
            const j = g.col[e]!;
            const kj = row(g, j, alpha, r);
            let back = -1;
            for (let q = g.rowPtr[j]!; q < g.rowPtr[j + 1]!; q++) if (g.col[q] === i) back = q - g.rowPtr[j]!;
            const lhs = pi[i]! * ki[e - g.rowPtr[i]!]!;
            const rhs = pi[j]! * kj[back]!;
            expect(Math.abs(lhs - rhs)).toBeLessThanOrEqual(1e-12 * Math.max(lhs, rhs));
          }
        }
      }
    });
  }
});

/** The plain Metropolis–Hastings walk, written independently: u from KeyedRng, inverse CDF of P's row. */
function mhrwNodes(f: WalkFixture, t: number, steps: number): number[] {
  const g = f.job.walk;
  const rng = new KeyedRng(f.spec.seed, t, COORDINATOR_SHARD, 'srrw-walk');
  let node = new KeyedRng(f.spec.seed, t, COORDINATOR_SHARD, 'srrw-start').nextInt(g.n);
  const out: number[] = [];
  for (let k = 0; k < steps; k++) {
    const u = rng.nextFloat();
    let z = 0;
    for (let e = g.rowPtr[node]!; e < g.rowPtr[node + 1]!; e++) z += g.prob[e]!;
    let acc = 0;
    let next = -1;
    for (let e = g.rowPtr[node]!; e < g.rowPtr[node + 1]!; e++) {
      if (g.prob[e]! > 0) next = g.col[e]!;
      acc += g.prob[e]!;
      if (u * z < acc) break;
    }
    node = next;
    out.push(node);
  }
  return out;
}

/** Walks one hop per call and records the node after each hop. */
function traceNodes(f: WalkFixture, t: number): { nodes: number[]; rec: Float64Array } {
  const { rec, params } = startToken(f, t);
  const nodes: number[] = [];
  const interior = f.shards.map((s) => new Float64Array(s.walk!.agents.interior));
  const g = f.job.walk;
  const scratch = walkScratch(g);
  const counters = { hops: 0, crossings: 0, handoffs: 0 };
  const steps = params[TOKEN_PARAMS.HEADER + TOKEN_PARAMS.STEPS]!;
  const peers = f.shards.map((sh, s) => ({ agents: sh.walk!.agents, interior: interior[s]! }));
  while (rec[TOKEN.N]! < steps) {
    const before = counters.hops;
    walkToken(g, peers, rec, 0, params, TOKEN_PARAMS.HEADER, params[TOKEN_PARAMS.WALK]!, 1, 0, scratch, counters);
    if (counters.hops > before) nodes.push(rec[TOKEN.NODE]!);
  }
  return { nodes, rec };
}

describe('token walk', () => {
  it('α = 0 reproduces the plain MHRW trajectory bit for bit (and the visit measure never steers it)', async () => {
    const f = await walkFixture(g12Spec([0], { steps: 5000 }), 1);
    const { nodes } = traceNodes(f, 0);
    expect(nodes).toEqual(mhrwNodes(f, 0, 5000));
    // A different α changes the trajectory: the comparison above can fail.
    const f2 = await walkFixture(g12Spec([5], { steps: 5000 }), 1);
    expect(traceNodes(f2, 0).nodes).not.toEqual(nodes);
  });

  it('θ follows the SA recursion θ_{n+1} = θ_n + (n+2)^(−b)(c_X − θ_n) at the visited agents', async () => {
    const f = await walkFixture(g12Spec([0], { steps: 500 }), 1);
    const { nodes, rec } = traceNodes(f, 0);
    const x = f.shards[0]!.walk!.agents.x;
    const th = [0, 0];
    nodes.forEach((node, n) => {
      const beta = Math.pow(n + 2, -1);
      const c = [x[2 * f.job.walk.local[node]!]!, x[2 * f.job.walk.local[node]! + 1]!];
      const dir = [c[0]! - th[0]!, c[1]! - th[1]!];
      th[0] = th[0]! + beta * dir[0]!;
      th[1] = th[1]! + beta * dir[1]!;
    });
    expect(rec[TOKEN.THETA]).toBe(th[0]);
    expect(rec[TOKEN.THETA + 1]).toBe(th[1]);
  });

  for (const walk of ['mhrw', 'srw', 'nbrw', 'iid'] as const) {
    it(`${walk}: shards, hop caps and visit placement never change a bit`, async () => {
      const alpha = walk === 'nbrw' || walk === 'iid' ? [0] : [4];
      const spec = { ...rggSpec(alpha), algorithm: { ...rggSpec(alpha).algorithm, walk } };
      const one = await walkFixture(spec, 1);
      const ref = startToken(one, 0);
      walkToEnd(one, ref.rec, ref.params);
      for (const [shards, visits, cap] of [
        [4, 'split', 1e9],
        [7, 'split', 13],
        [4, 'token', 1e9],
      ] as const) {
        const f = await walkFixture({ ...spec, problem: { ...spec.problem, visits } }, shards);
        const t = startToken(f, 0);
        const c = walkToEnd(f, t.rec, t.params, cap);
        // Same header and θ; the boundary entries differ in layout, not in the walk.
        expect(Array.from(t.rec.subarray(0, TOKEN.THETA + 4))).toEqual(Array.from(ref.rec.subarray(0, TOKEN.THETA + 4)));
        if (shards > 1 && walk !== 'iid') expect(c.crossings).toBeGreaterThan(0);
      }
    });
  }
});
