import { describe, expect, it } from 'vitest';
import { shardRange } from '@optfleet/proto';
import { bilinearApply } from '../kernels/cpu/bilinear.js';
import { bilinearConstants, bilinearShard, spectralNorm } from './bilinear.js';

/** F_i(z) written out from its definition: M_i z + q_i with M_i = [[μI, B_i], [−B_iᵀ, μI]]. */
function naiveComponent(
  m: number,
  mu: number,
  sigma: number,
  B: Float64Array,
  q: Float64Array,
  row: Float64Array,
  z: Float64Array,
): Float64Array {
  const Bi = (a: number, b: number): number => B[a * m + b]! + sigma * row[a * m + b]!;
  const out = new Float64Array(2 * m);
  for (let a = 0; a < m; a++) {
    let s = mu * z[a]! + q[a]! + sigma * row[m * m + a]!;
    for (let b = 0; b < m; b++) s += Bi(a, b) * z[m + b]!;
    out[a] = s;
    let t = mu * z[m + a]! + q[m + a]! + sigma * row[m * m + m + a]!;
    for (let b = 0; b < m; b++) t -= Bi(b, a) * z[b]!;
    out[m + a] = t;
  }
  return out;
}

describe('bilinear game', () => {
  const m = 4;
  const n = 9;
  const g = bilinearConstants(17, m, 0.1, 0.7);
  const z = Float64Array.from({ length: 2 * m }, (_, j) => Math.cos(j + 1));
  const zp = Float64Array.from({ length: 2 * m }, (_, j) => Math.sin(3 * j));

  it('B has spectral norm 1', () => {
    expect(spectralNorm(g.B, m)).toBeCloseTo(1, 10);
  });

  it('op-eval sums the components as defined; antithetic pairs make the mean exactly Mz + q', () => {
    const all = bilinearShard(g, 17, n, 0, 0, n);
    if (all.matrix.kind !== 'dense') throw new Error('dense expected');
    const out = new Float64Array(2 * m + 1);
    bilinearApply(g, all.matrix, z, null, true, out);
    const w = m * m + 2 * m;
    const naive = new Float64Array(2 * m);
    for (let i = 0; i < n; i++)
      naiveComponent(m, g.mu, g.sigma, g.B, g.q, all.matrix.x.subarray(i * w, (i + 1) * w), z).forEach(
        (v, j) => (naive[j] = naive[j]! + v),
      );
    for (let j = 0; j < 2 * m; j++) expect(out[j]).toBeCloseTo(naive[j]!, 10);
    expect(out[2 * m]).toBe(n);
    // Mean operator = Mz + q with the mean matrix (B, not B_i): the deviations cancel.
    const zeros = new Float64Array(w);
    const mean = naiveComponent(m, g.mu, g.sigma, g.B, g.q, zeros, z);
    for (let j = 0; j < 2 * m; j++) expect(out[j]! / n).toBeCloseTo(mean[j]!, 12);
  });

  it('op-diff on sampled components equals the difference of op-evals', () => {
    const sh = bilinearShard(g, 17, n, 1, 3, 8);
    if (sh.matrix.kind !== 'dense') throw new Error('dense expected');
    const rows = Uint32Array.from([0, 2, 2, 4]);
    const a = new Float64Array(2 * m + 1);
    const b = new Float64Array(2 * m + 1);
    const d = new Float64Array(2 * m + 1);
    bilinearApply(g, sh.matrix, z, rows, true, a);
    bilinearApply(g, sh.matrix, zp, rows, true, b);
    const delta = z.map((v, j) => v - zp[j]!);
    bilinearApply(g, sh.matrix, delta, rows, false, d);
    for (let j = 0; j < 2 * m; j++) expect(d[j]).toBeCloseTo(a[j]! - b[j]!, 10);
  });

  it('component i is the same whatever the shard count', () => {
    const whole = bilinearShard(g, 17, n, 0, 0, n);
    const [a, b] = shardRange(n, 3, 1);
    const part = bilinearShard(g, 17, n, 1, a, b);
    const w = m * m + 2 * m;
    if (whole.matrix.kind !== 'dense' || part.matrix.kind !== 'dense') throw new Error('dense expected');
    expect(Array.from(part.matrix.x)).toEqual(Array.from(whole.matrix.x.subarray(a * w, b * w)));
  });
});
