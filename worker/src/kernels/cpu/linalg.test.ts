/** Cholesky solves, the Jacobi eigen-solver and the spectral projection on seeded symmetric matrices. */
import { describe, expect, it } from 'vitest';
import { KeyedRng } from '@optfleet/proto';
import { cholesky, choleskySolve, jacobiEigen, projectSpectrum, projectionScratch } from './linalg.js';

function symmetric(p: number, seed: number, shift: number): Float64Array {
  const rng = new KeyedRng(seed, 0, 0, 'linalg-test');
  const A = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      const v = rng.nextNormal();
      A[i * p + j] = v;
      A[j * p + i] = v;
    }
    A[i * p + i] = A[i * p + i]! + shift;
  }
  return A;
}

const matvec = (A: Float64Array, p: number, v: Float64Array): Float64Array =>
  Float64Array.from({ length: p }, (_, i) => A.subarray(i * p, (i + 1) * p).reduce((s, a, j) => s + a * v[j]!, 0));

describe('dense symmetric linear algebra', () => {
  it('Cholesky solve reproduces b = A x to 1e-12', () => {
    const p = 12;
    const A = symmetric(p, 1, 3 * p);
    const x = Float64Array.from({ length: p }, (_, i) => i - 4);
    const b = matvec(A, p, x);
    const L = A.slice();
    expect(cholesky(L, 0, p)).toBe(true);
    choleskySolve(L, 0, p, b);
    for (let i = 0; i < p; i++) expect(Math.abs(b[i]! - x[i]!)).toBeLessThan(1e-12);
  });

  it('Cholesky refuses an indefinite matrix', () => {
    const A = Float64Array.of(1, 2, 2, 1);
    expect(cholesky(A, 0, 2)).toBe(false);
  });

  it('Jacobi eigenpairs satisfy A v = λ v and V is orthogonal', () => {
    const p = 9;
    const A = symmetric(p, 2, 0);
    const w = new Float64Array(p);
    const V = new Float64Array(p * p);
    jacobiEigen(A.slice(), 0, p, w, V);
    for (let k = 0; k < p; k++) {
      const v = Float64Array.from({ length: p }, (_, i) => V[i * p + k]!);
      const Av = matvec(A, p, v);
      for (let i = 0; i < p; i++) expect(Math.abs(Av[i]! - w[k]! * v[i]!)).toBeLessThan(1e-12);
      for (let l = 0; l < p; l++) {
        const dot = v.reduce((s, a, i) => s + a * V[i * p + l]!, 0);
        expect(Math.abs(dot - (k === l ? 1 : 0))).toBeLessThan(1e-12);
      }
    }
  });

  it('projection clips eigenvalues into [lo, hi] and keeps the eigenvectors', () => {
    const p = 8;
    const A = symmetric(p, 3, 0); // eigenvalues roughly in [−6, 6]
    const w0 = new Float64Array(p);
    const V0 = new Float64Array(p * p);
    jacobiEigen(A.slice(), 0, p, w0, V0);
    const H = A.slice();
    expect(projectSpectrum(H, 0, p, 0.5, 2, projectionScratch(p))).toBe(true);
    // H v_k = clip(λ_k) v_k for every eigenvector of A.
    for (let k = 0; k < p; k++) {
      const v = Float64Array.from({ length: p }, (_, i) => V0[i * p + k]!);
      const Hv = matvec(H, p, v);
      const lam = Math.min(2, Math.max(0.5, w0[k]!));
      for (let i = 0; i < p; i++) expect(Math.abs(Hv[i]! - lam * v[i]!)).toBeLessThan(1e-11);
    }
  });

  it('projection leaves a matrix already inside the set as it was (symmetrised)', () => {
    const p = 6;
    const A = symmetric(p, 4, 0);
    for (let k = 0; k < p * p; k++) A[k] = A[k]! * 0.01;
    for (let i = 0; i < p; i++) A[i * p + i] = A[i * p + i]! + 1;
    const H = A.slice();
    expect(projectSpectrum(H, 0, p, 0.5, 2, projectionScratch(p))).toBe(false);
    expect(Array.from(H)).toEqual(Array.from(A));
  });
});
