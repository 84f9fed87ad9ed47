/**
 * Per-row loss pieces, written once so every kernel (dense, CSR, one point or two) computes
 * identical bits for the same row. Logistic uses the stable forms of log(1+e^{-m}) and σ.
 */

/** Problem kinds whose per-row loss the kernels know. */
export type LossKind = 'logistic' | 'least-squares';

/** log(1 + exp(-m)) without overflow. */
export function logistic(m: number): number {
  return m > 0 ? Math.log1p(Math.exp(-m)) : -m + Math.log1p(Math.exp(m));
}

/** d/dz of ℓ(z; y): logistic −y·σ(−y z), least squares z − y. */
export function lossSlope(kind: LossKind, z: number, y: number): number {
  if (kind === 'least-squares') return z - y;
  const m = y * z;
  // σ(−m) = 1 / (1 + e^{m}); for large m, e^{m} overflows to Infinity and the slope is −0·y = 0.
  return -y / (1 + Math.exp(m));
}

/** ℓ(z; y): logistic log(1+exp(−y z)), least squares ½(z − y)². */
export function lossValue(kind: LossKind, z: number, y: number): number {
  if (kind === 'least-squares') {
    const r = z - y;
    return 0.5 * r * r;
  }
  return logistic(y * z);
}
