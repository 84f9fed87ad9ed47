/** The MSVR γ of theory and the §5.3 step guard. */
import { describe, expect, it } from 'vitest';
import { validateJobSpec, type AlgorithmSpec } from '@optfleet/proto';
import { resolveBilevel, theoryGamma } from './steps.js';

type Bilevel = Extract<AlgorithmSpec, { name: 'bsvrb-v1' | 'bsvrb-v2' | 'stoch-bilevel' }>;

function alg(a: Record<string, unknown>): Bilevel {
  const spec = validateJobSpec({ name: 'x', problem: { kind: 'mbbo-quadratic', data: { source: 'synthetic', m: 64 } }, algorithm: a });
  return spec.algorithm as Bilevel;
}

describe('bilevel step settings', () => {
  it('γ = (m−I)/(I(1−α)) + (1−α), and 1−α (STORM) at I = m', () => {
    expect(theoryGamma(64, 8, 0.1)).toBeCloseTo(56 / (8 * 0.9) + 0.9, 14);
    expect(theoryGamma(64, 64, 0.1)).toBeCloseTo(0.9, 14);
    expect(theoryGamma(64, 8, 1)).toBe(0);
  });

  it('default τ is half the bound 1/(γ_eff·L_g); update all adds m/I to γ_eff', () => {
    const s = resolveBilevel(alg({ name: 'bsvrb-v2', I: 8, alpha: 0.1 }), 64, 1.6, 0.1);
    expect(s.tau).toBeCloseTo(0.5 / (theoryGamma(64, 8, 0.1) * 1.6), 14);
    const full = resolveBilevel(alg({ name: 'bsvrb-v2', I: 8, gamma: 1, update: 'all' }), 64, 1.6, 0.1);
    expect(full.tau).toBeCloseTo(0.5 / (8 * 1.6), 14);
  });

  it('refuses τ over the bound naming the field and the bound, unless stepGuard is false', () => {
    expect(() => resolveBilevel(alg({ name: 'bsvrb-v1', I: 8, gamma: 1, tau: 0.7 }), 64, 1.6, 0.1)).toThrow(
      /spec\.algorithm\.tau: 0\.7 breaks .* use tau ≤ 0\.625/,
    );
    expect(() => resolveBilevel(alg({ name: 'bsvrb-v2', I: 8, gamma: 1, tau: 0.5, tauU: 0.7 }), 64, 1.6, 0.1)).toThrow(
      /spec\.algorithm\.tauU/,
    );
    expect(resolveBilevel(alg({ name: 'bsvrb-v1', I: 8, gamma: 1, tau: 0.7, stepGuard: false }), 64, 1.6, 0.1).tau).toBe(0.7);
  });

  it('stoch-bilevel is α = 1, γ = 0, β = 1', () => {
    const s = resolveBilevel(alg({ name: 'stoch-bilevel', I: 8 }), 64, 1.6, 0.1);
    expect([s.alpha, s.gamma, s.beta, s.method]).toEqual([1, 0, 1, 0]);
  });
});
