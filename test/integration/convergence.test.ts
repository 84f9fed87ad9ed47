/**
 * SVRG and L-BFGS reach relative suboptimality ≤ 1e-8 on L2-regularised logistic regression,
 * against an optimum computed independently by Newton's method in float64 (test/helpers/newton).
 * Synthetic data runs in-process (the bit-identity test shows the distributed paths give the
 * same bits); the shipped LIBSVM file runs end to end through the CLI over gRPC.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEmbedded } from '@optfleet/cli';
import { validateJobSpec } from '@optfleet/proto';
import { readDataFile, syntheticShard } from '@optfleet/worker';
import type { JobResultDoc } from '@optfleet/coordinator';
import { logisticObjective, newtonLogistic, rowsOf } from '../helpers/newton.js';
import { REPO, runCli, tempDir, writeSpec } from '../helpers/cli.js';

const REL_TOL = 1e-8;

describe('logistic regression converges to the Newton optimum', () => {
  const n = 4000;
  const d = 20;
  const l2 = 1e-3;
  const data = syntheticShard({ kind: 'logistic', seed: 99, d, noise: 0.1 }, 0, 0, n);
  const star = newtonLogistic(rowsOf(data), l2);

  it('the Newton reference itself converged', () => {
    expect(star.gradNorm).toBeLessThan(1e-13);
  });

  for (const algorithm of [{ name: 'svrg', batchSize: 32 }, { name: 'saga', batchSize: 32, evalEvery: 200 }, { name: 'lbfgs' }]) {
    it(`${algorithm.name} on synthetic data`, async () => {
      const spec = validateJobSpec({
        name: `conv-${algorithm.name}`,
        seed: 5,
        shards: 6,
        problem: { kind: 'logistic', l2, data: { source: 'synthetic', n, d, seed: 99 } },
        algorithm,
        stop: { gradNorm: 1e-9, maxRounds: 100_000 },
      });
      const doc = await runEmbedded({ spec, workers: 1, transport: 'inprocess' });
      expect(doc.status, JSON.stringify(doc.error)).toBe('SUCCEEDED');
      const f = logisticObjective(rowsOf(data), l2, doc.final!.x);
      // No point beats the optimum beyond float64 rounding of the objective sum.
      expect((f - star.f) / star.f).toBeGreaterThan(-1e-14);
      expect((f - star.f) / star.f).toBeLessThanOrEqual(REL_TOL);
      // The reported objective is the objective at the reported iterate.
      expect(Math.abs(doc.final!.objective! - f) / f).toBeLessThan(1e-12);
    });
  }

  describe('the shipped LIBSVM file, end to end over gRPC', () => {
    let tmp: Awaited<ReturnType<typeof tempDir>>;
    beforeAll(async () => {
      tmp = await tempDir();
    });
    afterAll(async () => tmp.cleanup());

    const file = join(REPO, 'examples/data/a9a-head.libsvm');
    const lam = 0.01;

    for (const algorithm of [{ name: 'svrg', batchSize: 32 }, { name: 'lbfgs' }]) {
      it(`${algorithm.name} on examples/data/a9a-head.libsvm`, async () => {
        const parsed = await readDataFile({ path: file, format: 'libsvm', features: 123, binaryLabels: true });
        const ref = newtonLogistic(rowsOf(parsed), lam);
        expect(ref.gradNorm).toBeLessThan(1e-13);
        const spec = await writeSpec(tmp.dir, `${algorithm.name}.json`, {
          name: `a9a-${algorithm.name}`,
          seed: 2,
          shards: 4,
          problem: { kind: 'logistic', l2: lam, data: { source: 'file', format: 'libsvm', path: file, features: 123 } },
          algorithm,
          stop: { gradNorm: 1e-9, maxRounds: 200_000 },
        });
        const out = join(tmp.dir, `${algorithm.name}.result.json`);
        const r = await runCli(['run', spec, '--workers', '2', '--out', out]);
        expect(r.code, r.stderr).toBe(0);
        const doc = JSON.parse(await readFile(out, 'utf8')) as JobResultDoc;
        expect(doc.status).toBe('SUCCEEDED');
        expect(doc.cluster).toMatchObject({ transport: 'grpc', workers: 2, shards: 4, rows: 2000, features: 123 });
        const f = logisticObjective(rowsOf(parsed), lam, doc.final!.x);
        expect((f - ref.f) / ref.f).toBeLessThanOrEqual(REL_TOL);
      });
    }
  });
});
