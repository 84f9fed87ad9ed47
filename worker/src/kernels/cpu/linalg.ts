/**
 * Small dense symmetric linear algebra for the bilevel trackers (row-major p×p Float64Arrays,
 * views at an offset): Cholesky factor/solve (v1 solves H⁻¹∇_y f without ever forming H⁻¹) and a
 * cyclic Jacobi eigen-solver for the PSD projection (eigenvalue clipping). Costs: Cholesky p³/3
 * flops; Jacobi ≈ 6p³ flops per sweep, 6–10 sweeps, so about 50p³ flops: 5e4 at p = 10, 5e7 at
 * p = 100, 5e10 at p = 1000 (where v1 stops being practical; spec §5: use v2).
 */

/**
 * In-place Cholesky A = LLᵀ of the p×p matrix at A[off..]: the lower triangle becomes L (the upper
 * triangle is left as is). Returns false (A partly overwritten) when A is not positive definite.
 */
export function cholesky(A: Float64Array, off: number, p: number): boolean {
  for (let j = 0; j < p; j++) {
    const rj = off + j * p;
    let s = A[rj + j]!;
    for (let k = 0; k < j; k++) s -= A[rj + k]! * A[rj + k]!;
    if (!(s > 0)) return false;
    const ljj = Math.sqrt(s);
    A[rj + j] = ljj;
    for (let i = j + 1; i < p; i++) {
      const ri = off + i * p;
      let t = A[ri + j]!;
      for (let k = 0; k < j; k++) t -= A[ri + k]! * A[rj + k]!;
      A[ri + j] = t / ljj;
    }
  }
  return true;
}

/** Solves LLᵀx = b with the factor from `cholesky`; b (length p) is overwritten with x. */
export function choleskySolve(L: Float64Array, off: number, p: number, b: Float64Array): void {
  for (let i = 0; i < p; i++) {
    const ri = off + i * p;
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= L[ri + k]! * b[k]!;
    b[i] = s / L[ri + i]!;
  }
  for (let i = p - 1; i >= 0; i--) {
    let s = b[i]!;
    for (let k = i + 1; k < p; k++) s -= L[off + k * p + i]! * b[k]!;
    b[i] = s / L[off + i * p + i]!;
  }
}

/**
 * Cyclic Jacobi: A (p×p symmetric, at A[off..], destroyed) → eigenvalues in `w` (length p) and
 * eigenvectors as the columns of V (p×p, row-major). Sweeps until the off-diagonal mass is below
 * 1e-15 of the total (or 60 sweeps, far beyond the quadratic convergence's need).
 */
export function jacobiEigen(A: Float64Array, off: number, p: number, w: Float64Array, V: Float64Array): void {
  V.fill(0, 0, p * p);
  for (let i = 0; i < p; i++) V[i * p + i] = 1;
  let total = 0;
  for (let k = 0; k < p * p; k++) total += A[off + k]! * A[off + k]!;
  for (let sweep = 0; sweep < 60; sweep++) {
    let offMass = 0;
    for (let i = 0; i < p; i++) for (let j = i + 1; j < p; j++) offMass += A[off + i * p + j]! * A[off + i * p + j]!;
    if (offMass <= 1e-30 * total || offMass === 0) break;
    for (let q = 0; q < p; q++) {
      for (let r = q + 1; r < p; r++) {
        const aqr = A[off + q * p + r]!;
        if (aqr === 0) continue;
        const aqq = A[off + q * p + q]!;
        const arr = A[off + r * p + r]!;
        // Rotation angle that zeroes A[q][r] (Numerical Recipes' stable form).
        const theta = (arr - aqq) / (2 * aqr);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < p; k++) {
          // Columns q and r.
          const akq = A[off + k * p + q]!;
          const akr = A[off + k * p + r]!;
          A[off + k * p + q] = c * akq - s * akr;
          A[off + k * p + r] = s * akq + c * akr;
        }
        for (let k = 0; k < p; k++) {
          // Rows q and r.
          const aqk = A[off + q * p + k]!;
          const ark = A[off + r * p + k]!;
          A[off + q * p + k] = c * aqk - s * ark;
          A[off + r * p + k] = s * aqk + c * ark;
        }
        for (let k = 0; k < p; k++) {
          const vkq = V[k * p + q]!;
          const vkr = V[k * p + r]!;
          V[k * p + q] = c * vkq - s * vkr;
          V[k * p + r] = s * vkq + c * vkr;
        }
      }
    }
  }
  for (let i = 0; i < p; i++) w[i] = A[off + i * p + i]!;
}

/** Scratch for `projectSpectrum`, sized for p×p. */
export interface ProjectionScratch {
  readonly p: number;
  readonly A: Float64Array;
  readonly V: Float64Array;
  readonly w: Float64Array;
}

export function projectionScratch(p: number): ProjectionScratch {
  return { p, A: new Float64Array(p * p), V: new Float64Array(p * p), w: new Float64Array(p) };
}

/**
 * Euclidean (Frobenius) projection of the p×p matrix H (at H[off..], overwritten) onto
 * {S = Sᵀ : lo·I ⪯ S ⪯ hi·I}: symmetrise, eigendecompose, clip the eigenvalues to [lo, hi].
 * Fast path: when both H − lo'·I and hi'·I − H have Cholesky factors, with the bounds widened by
 * a relative 1e-12 (lo' = lo·(1 − 1e-12), hi' = hi·(1 + 1e-12)) so eigenvalues sitting exactly on a
 * bound (a mini-batch Hessian aaᵀ + μI with B < d_y has d_y − B eigenvalues equal to μ = lo)
 * count as inside, the projection is the symmetrised H itself and no eigen-solve runs; the error
 * of that shortcut is at most 1e-12·max(|lo|, |hi|) per eigenvalue. Returns true when eigenvalues
 * were clipped.
 */
export function projectSpectrum(H: Float64Array, off: number, p: number, lo: number, hi: number, s: ProjectionScratch): boolean {
  for (let i = 0; i < p; i++) {
    for (let j = i + 1; j < p; j++) {
      const v = 0.5 * (H[off + i * p + j]! + H[off + j * p + i]!);
      H[off + i * p + j] = v;
      H[off + j * p + i] = v;
    }
  }
  const A = s.A;
  for (let k = 0; k < p * p; k++) A[k] = H[off + k]!;
  const loW = lo - 1e-12 * Math.abs(lo);
  const hiW = hi + 1e-12 * Math.abs(hi);
  for (let i = 0; i < p; i++) A[i * p + i] = A[i * p + i]! - loW;
  let inside = cholesky(A, 0, p);
  if (inside) {
    for (let k = 0; k < p * p; k++) A[k] = -H[off + k]!;
    for (let i = 0; i < p; i++) A[i * p + i] = A[i * p + i]! + hiW;
    inside = cholesky(A, 0, p);
  }
  if (inside) return false;
  for (let k = 0; k < p * p; k++) A[k] = H[off + k]!;
  jacobiEigen(A, 0, p, s.w, s.V);
  const { w, V } = s;
  for (let i = 0; i < p; i++) w[i] = Math.min(hi, Math.max(lo, w[i]!));
  for (let i = 0; i < p; i++) {
    for (let j = i; j < p; j++) {
      let t = 0;
      for (let k = 0; k < p; k++) t += V[i * p + k]! * w[k]! * V[j * p + k]!;
      H[off + i * p + j] = t;
      H[off + j * p + i] = t;
    }
  }
  return true;
}
