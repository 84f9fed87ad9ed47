/**
 * The matrix game over simplices (spec §3.1): min_{x∈Δ} max_{y∈Δ} yᵀAx with the seeded
 * "policeman and burglar" matrix, and a user's payoff matrix from CSV. Certificates computed here:
 * feasibility of (x, y) and the duality gap max_i(Ax)_i − min_j(Aᵀy)_j from A itself (the gap is
 * ≥ 0 and 0 exactly at equilibria); for rock-paper-scissors the unique equilibrium is uniform.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEmbedded } from '@optfleet/cli';
import { validateJobSpec } from '@optfleet/proto';
import { policemanBurglar, spectralNorm } from '@optfleet/worker';
import { runCli, tempDir, writeSpec } from '../helpers/cli.js';

function gapOf(A: Float64Array, N: number, u: readonly number[]): number {
  let maxAx = -Infinity;
  let minATy = Infinity;
  for (let i = 0; i < N; i++) {
    let ax = 0;
    let aty = 0;
    for (let j = 0; j < N; j++) {
      ax += A[i * N + j]! * u[j]!;
      aty += A[j * N + i]! * u[N + j]!;
    }
    maxAx = Math.max(maxAx, ax);
    minATy = Math.min(minATy, aty);
  }
  return maxAx - minATy;
}

function expectFeasible(u: readonly number[], N: number): void {
  for (const part of [u.slice(0, N), u.slice(N)]) {
    expect(part.every((v) => v >= 0)).toBe(true);
    expect(Math.abs(part.reduce((s, v) => s + v, 0) - 1)).toBeLessThan(1e-12);
  }
}

describe('matrix game over simplices', () => {
  const N = 60;
  const A = policemanBurglar(1, N, 0.8);
  const norm2 = spectralNorm(A, N);
  const gap0 = gapOf(A, N, new Array<number>(2 * N).fill(1 / N));

  const cases: Array<[string, Record<string, unknown>, number]> = [
    ['eg', { name: 'eg', stepSize: 5 / norm2 }, 1e-4],
    ['eag', { name: 'eag', stepSize: 5 / norm2 }, 1e-4],
    ['vr-halpern', { name: 'vr-halpern', stepSize: 5 / norm2 }, 1e-4],
    ['halpern', { name: 'halpern', stepSize: 1 / norm2 }, 1e-2],
  ];
  for (const [label, algorithm, relGap] of cases) {
    it(`${label}: feasible iterates and duality gap ≤ ${relGap}·gap₀ (gap recomputed here from A)`, async () => {
      const spec = validateJobSpec({
        name: `mg-${label}`,
        seed: 1,
        shards: 4,
        problem: { kind: 'matrix-game', data: { source: 'synthetic', n: N } },
        algorithm,
        stop: { residual: 0, maxRounds: 12_000 },
      });
      const doc = await runEmbedded({ spec, workers: 1, transport: 'inprocess' });
      expect(doc.status, JSON.stringify(doc.error)).toBe('SUCCEEDED');
      const u = doc.final!.x;
      expectFeasible(u, N);
      const gap = gapOf(A, N, u);
      expect(gap).toBeGreaterThanOrEqual(-1e-12);
      expect(Math.abs(doc.final!.gap! - gap)).toBeLessThan(1e-10);
      expect(gap).toBeLessThanOrEqual(relGap * gap0);
      expect(doc.history.every((h) => typeof h.gap === 'number' && typeof h.residual === 'number')).toBe(true);
    });
  }

  describe('a payoff matrix from CSV', () => {
    let tmp: Awaited<ReturnType<typeof tempDir>>;
    beforeAll(async () => {
      tmp = await tempDir();
    });
    afterAll(async () => tmp.cleanup());

    it('rock-paper-scissors converges to its unique, uniform equilibrium', async () => {
      const csv = await writeSpec(tmp.dir, 'rps.csv', '# rock, paper, scissors\n0,-1,1\n1,0,-1\n-1,1,0\n');
      const spec = validateJobSpec({
        name: 'rps',
        shards: 3,
        problem: { kind: 'matrix-game', data: { source: 'file', format: 'csv', path: csv } },
        algorithm: { name: 'eg', stepSize: 0.2 },
        stop: { residual: 1e-10, maxRounds: 20_000 },
      });
      const doc = await runEmbedded({ spec, workers: 1, transport: 'inprocess' });
      expect(doc.status, JSON.stringify(doc.error)).toBe('SUCCEEDED');
      for (const v of doc.final!.x) expect(Math.abs(v - 1 / 3)).toBeLessThan(1e-8);
      expect(Math.abs(doc.final!.gap!)).toBeLessThan(1e-8);
    });

    it('a non-square or malformed payoff file is exit 2 naming the file (and line)', async () => {
      const bad = await writeSpec(tmp.dir, 'bad.csv', '1,2\n3,4\n5,6\n');
      const s1 = await writeSpec(tmp.dir, 'bad.json', {
        name: 'bad',
        problem: { kind: 'matrix-game', data: { source: 'file', format: 'csv', path: bad } },
        algorithm: { name: 'eg' },
      });
      const r1 = await runCli(['run', s1, '--transport', 'inprocess']);
      expect(r1.code).toBe(2);
      expect(r1.stderr).toMatch(/bad\.csv: the payoff matrix must be square, got 3 rows of 2 columns/);
      const nan = await writeSpec(tmp.dir, 'nan.csv', '1,2\n3,x\n');
      const s2 = await writeSpec(tmp.dir, 'nan.json', {
        name: 'nan',
        problem: { kind: 'matrix-game', data: { source: 'file', format: 'csv', path: nan } },
        algorithm: { name: 'eg' },
      });
      const r2 = await runCli(['run', s2, '--transport', 'inprocess']);
      expect(r2.code).toBe(2);
      expect(r2.stderr).toMatch(/nan\.csv:2: column 2: "x" is not a finite number/);
      const missing = await writeSpec(tmp.dir, 'm.json', {
        name: 'm',
        problem: { kind: 'matrix-game', data: { source: 'file', format: 'csv', path: join(tmp.dir, 'nope.csv') } },
        algorithm: { name: 'eg' },
      });
      const r3 = await runCli(['run', missing, '--transport', 'inprocess']);
      expect(r3.code).toBe(2);
      expect(r3.stderr).toMatch(/payoff file .*nope\.csv cannot be read: ENOENT/);
    });
  });
});
