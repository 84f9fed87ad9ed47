/**
 * The covariance theory reproduces spec §4(a)'s table for G12 with quadratic losses (b = 1), which
 * the spec checked by an eigenvector route and a fundamental-matrix route.
 */
import { describe, expect, it } from 'vitest';
import { baseChain, g12Graph } from '@optfleet/proto';
import { densePattern, graphObjective } from './objective.js';
import { SrrwTheory } from './theory.js';

function theoryFor(a: number, b: number): SrrwTheory {
  const g = g12Graph();
  const chain = baseChain(g, 'mhrw');
  const obj = graphObjective({ loss: 'quadratic', seed: 0, g12: true, points: 1, features: 2 }, g, chain, 0);
  return new SrrwTheory({ n: 12, p: densePattern(chain), mu: chain.mu, h: obj.h, j: obj.j, d: 2, a, b, sampling: 'chain' });
}

describe('SA-SRRW covariance theory on G12', () => {
  it('θ* is the mean of the centres (spec: (0.466667, −0.017209))', () => {
    const g = g12Graph();
    const obj = graphObjective({ loss: 'quadratic', seed: 0, g12: true, points: 1, features: 2 }, g, baseChain(g, 'mhrw'), 0);
    expect(obj.thetaStar[0]).toBeCloseTo(0.466667, 5);
    expect(obj.thetaStar[1]).toBeCloseTo(-0.017209, 5);
  });

  /** Agreement to the printed digits: within half a unit of the last printed decimal. */
  function expectPrinted(v: number | null, printed: string): void {
    const decimals = printed.split('.')[1]?.length ?? 0;
    expect(v).not.toBeNull();
    expect(Math.abs(v! - Number(printed))).toBeLessThanOrEqual(0.5 * 10 ** -decimals + 1e-15);
  }

  it('case (i) a < b = 1 matches every entry of the spec table to its printed digits', () => {
    const t = theoryFor(0.7, 1);
    const table: Array<[number, string]> = [
      [0, '18.745'],
      [1, '2.1652'],
      [2, '0.78669'],
      [3, '0.40307'],
      [4, '0.24443'],
      [5, '0.16389'],
      [8, '0.06880'],
      [10, '0.04513'],
      [16, '0.01830'],
      [20, '0.01186'],
      [50, '0.00196'],
    ];
    for (const [alpha, want] of table) expectPrinted(t.trace(alpha), want);
    // Any a < 1 gives the same case-(i) limit.
    expectPrinted(theoryFor(0.8, 1).trace(2), '0.78669');
  });

  it('case (ii) a = b = 1 matches the spec table', () => {
    const t = theoryFor(1, 1);
    const table: Array<[number, string]> = [
      [0, '18.745'],
      [1, '3.8357'],
      [2, '2.1371'],
      [3, '1.4812'],
      [4, '1.1334'],
      [5, '0.91785'],
      [8, '0.58443'],
      [10, '0.47049'],
      [16, '0.29686'],
      [20, '0.23825'],
      [50, '0.09604'],
    ];
    for (const [alpha, want] of table) expectPrinted(t.trace(alpha), want);
  });

  it('case (iii) a = 1 > b = 0.8 is 9.3723 for every α', () => {
    const t = theoryFor(1, 0.8);
    for (const alpha of [0, 2, 10]) expectPrinted(t.trace(alpha), '9.3723');
  });

  it('no theory when J + I/2 is not Hurwitz (b = 1 with too little curvature)', () => {
    const g = g12Graph();
    const chain = baseChain(g, 'mhrw');
    const obj = graphObjective({ loss: 'quadratic', seed: 0, g12: true, points: 1, features: 2 }, g, chain, 0);
    const weak = Float64Array.from(obj.j, (v) => v * 0.4); // J = −0.4 I: J + I/2 has eigenvalue +0.1
    const t = new SrrwTheory({ n: 12, p: densePattern(chain), mu: chain.mu, h: obj.h, j: weak, d: 2, a: 0.7, b: 1, sampling: 'chain' });
    expect(t.stable()).toBe(false);
    expect(t.trace(2)).toBeNull();
    // With b < 1 (c_b = 0) the same J is stable.
    const t2 = new SrrwTheory({ n: 12, p: densePattern(chain), mu: chain.mu, h: obj.h, j: weak, d: 2, a: 0.7, b: 0.9, sampling: 'chain' });
    expect(t2.trace(2)).toBeGreaterThan(0);
  });
});
