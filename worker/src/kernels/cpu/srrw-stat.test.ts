/**
 * The statistical test of spec §4(a): G12, quadratic losses, R = 400 seeded tokens per
 * configuration, n = 2·10⁴ steps; S = ‖θ_n − θ*‖² / betaTheta_n averages to tr V_θ(α).
 *   A: a = 0.7, b = 1 (case (i), x faster), α ∈ {0, 2, 8};  B: a = b = 1 (case (ii)), α ∈ {2, 8}.
 * Theory (spec table, reproduced by coordinator theory.test.ts): A(0) 18.745, A(2) 0.78669,
 * B(2) 2.1371, B(8) 0.58443. Thresholds are the spec's, calibrated there by bootstrapping 400-run
 * batches (a single run's coefficient of variation is ≈ 1.3–1.5, so R = 400 gives ≈ 7% standard
 * error; the 0.1% quantiles of the ratios are 0.78 / 0.76 / 0.71, of the slopes 1.19 and 1.18).
 * Our PRNG differs from the spec author's, so these seeds are a fresh draw from the same laws; they
 * measured A(0) 20.54, A(2) 0.844, A(8) 0.119, B(2) 2.209, B(8) 0.564 (slopes 1.41 and 0.98;
 * the spec measured 18.03, 0.739, 0.103, 1.94, 0.520, slopes 1.42 and 0.95).
 */
import { describe, expect, it } from 'vitest';
import { TOKEN, g12Centres } from '@optfleet/proto';
import { startToken, walkFixture, walkToEnd } from './srrw-fixture.js';

const R = 400;
const N_STEPS = 20_000;

async function meanS(alpha: number, a: number, b: number, seed: number): Promise<number> {
  const f = await walkFixture(
    {
      name: 'stat',
      seed,
      problem: { kind: 'graph-token', graph: { source: 'g12' } },
      algorithm: { name: 'sa-srrw', alpha: [alpha], a, b, tokens: R, steps: N_STEPS },
    },
    1,
  );
  // θ* = mean of the centres (uniform μ, J = −I).
  const c = g12Centres();
  const star = [0, 0];
  for (let i = 0; i < 12; i++) for (let j = 0; j < 2; j++) star[j]! += c[2 * i + j]! / 12;
  let sum = 0;
  for (let t = 0; t < R; t++) {
    const { rec, params } = startToken(f, t);
    walkToEnd(f, rec, params);
    const e2 = (rec[TOKEN.THETA]! - star[0]!) ** 2 + (rec[TOKEN.THETA + 1]! - star[1]!) ** 2;
    sum += e2 * Math.pow(N_STEPS + 1, b);
  }
  return sum / R;
}

describe('SA-SRRW on G12 reproduces the covariance theory (spec §4(a))', () => {
  it('case (i) O(1/α²) and case (ii) O(1/α) at the theory values', { timeout: 300_000 }, async () => {
    const sA0 = await meanS(0, 0.7, 1, 101);
    const sA2 = await meanS(2, 0.7, 1, 102);
    const sA8 = await meanS(8, 0.7, 1, 103);
    const sB2 = await meanS(2, 1, 1, 104);
    const sB8 = await meanS(8, 1, 1, 105);
    expect(Math.abs(sA0 / 18.745 - 1)).toBeLessThanOrEqual(0.25);
    expect(Math.abs(sA2 / 0.78669 - 1)).toBeLessThanOrEqual(0.25);
    expect(Math.abs(sB2 / 2.1371 - 1)).toBeLessThanOrEqual(0.3);
    expect(Math.abs(sB8 / 0.58443 - 1)).toBeLessThanOrEqual(0.3);
    expect(sA0 / sA2).toBeGreaterThanOrEqual(12);
    const slopeA = Math.log(sA2 / sA8) / Math.log(4);
    const slopeB = Math.log(sB2 / sB8) / Math.log(4);
    expect(slopeA).toBeGreaterThanOrEqual(1.15);
    expect(slopeB).toBeLessThanOrEqual(1.2);
  });
});
