/**
 * Block sampling: distinct sorted ids in range, a pure function of (seed, t), uniform inclusion
 * (chi-square), and reshuffle epochs that visit each block at most once.
 */
import { describe, expect, it } from 'vitest';
import { ReshuffleBlocks, uniformBlocks } from './block-sampler.js';

describe('uniformBlocks', () => {
  it('returns I distinct sorted ids in [0, m), the same for the same (seed, t)', () => {
    for (let t = 0; t < 50; t++) {
      const b = uniformBlocks(7, t, 40, 9);
      expect(b.length).toBe(9);
      for (let k = 1; k < b.length; k++) expect(b[k]!).toBeGreaterThan(b[k - 1]!);
      expect(b[8]!).toBeLessThan(40);
      expect(Array.from(uniformBlocks(7, t, 40, 9))).toEqual(Array.from(b));
    }
  });

  it('includes every block with probability I/m (chi-square, 2000 iterations)', () => {
    const m = 20;
    const I = 5;
    const T = 2000;
    const counts = new Array<number>(m).fill(0);
    for (let t = 0; t < T; t++) for (const i of uniformBlocks(3, t, m, I)) counts[i]!++;
    const expected = (T * I) / m;
    // Inclusions of one block are Binomial(T, I/m): variance T·(I/m)(1 − I/m), so the statistic
    // Σ(c − e)²/(e(1 − I/m)) is ≈ χ² with m − 1 = 19 degrees of freedom; its 0.999 quantile is 43.8.
    const stat = counts.reduce((s, c) => s + (c - expected) ** 2 / (expected * (1 - I / m)), 0);
    expect(stat).toBeLessThan(43.8);
  });
});

describe('ReshuffleBlocks', () => {
  it('visits each block at most once per epoch of ⌊m/I⌋ iterations', () => {
    const r = new ReshuffleBlocks(5, 23, 4);
    for (let e = 0; e < 3; e++) {
      const seen = new Set<number>();
      for (let k = 0; k < 5; k++) for (const i of r.blocks(e * 5 + k)) seen.add(i);
      expect(seen.size).toBe(20);
    }
  });
});
