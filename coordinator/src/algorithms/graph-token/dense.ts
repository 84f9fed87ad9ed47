/** Small dense linear algebra (row-major Float64Array matrices) for the SA-SRRW theory values. */

export interface Lu {
  readonly n: number;
  readonly lu: Float64Array;
  readonly piv: Int32Array;
}

/** LU factorisation with partial pivoting of the n×n matrix a (copied). Throws on a singular matrix. */
export function luFactor(a: Float64Array, n: number): Lu {
  const lu = a.slice();
  const piv = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    let p = k;
    let best = Math.abs(lu[k * n + k]!);
    for (let i = k + 1; i < n; i++) {
      const v = Math.abs(lu[i * n + k]!);
      if (v > best) {
        best = v;
        p = i;
      }
    }
    if (best === 0) throw new Error(`singular matrix at column ${k}`);
    piv[k] = p;
    if (p !== k) {
      for (let j = 0; j < n; j++) {
        const t = lu[k * n + j]!;
        lu[k * n + j] = lu[p * n + j]!;
        lu[p * n + j] = t;
      }
    }
    const inv = 1 / lu[k * n + k]!;
    for (let i = k + 1; i < n; i++) {
      const f = (lu[i * n + k]! *= inv);
      if (f === 0) continue;
      for (let j = k + 1; j < n; j++) lu[i * n + j]! -= f * lu[k * n + j]!;
    }
  }
  return { n, lu, piv };
}

/** Solves A X = B for B of n×k (row-major), returning X. */
export function luSolve(f: Lu, b: Float64Array, k: number): Float64Array {
  const { n, lu, piv } = f;
  const x = b.slice();
  for (let i = 0; i < n; i++) {
    const p = piv[i]!;
    if (p !== i) {
      for (let c = 0; c < k; c++) {
        const t = x[i * k + c]!;
        x[i * k + c] = x[p * k + c]!;
        x[p * k + c] = t;
      }
    }
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const l = lu[i * n + j]!;
      if (l !== 0) for (let c = 0; c < k; c++) x[i * k + c]! -= l * x[j * k + c]!;
    }
  }
  for (let i = n - 1; i >= 0; i--) {
    for (let j = i + 1; j < n; j++) {
      const u = lu[i * n + j]!;
      if (u !== 0) for (let c = 0; c < k; c++) x[i * k + c]! -= u * x[j * k + c]!;
    }
    const inv = 1 / lu[i * n + i]!;
    for (let c = 0; c < k; c++) x[i * k + c]! *= inv;
  }
  return x;
}

export function transpose(a: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j]!;
  return t;
}

/** C = A B with A m×k and B k×n. */
export function matMul(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let l = 0; l < k; l++) {
      const v = a[i * k + l]!;
      if (v === 0) continue;
      for (let j = 0; j < n; j++) c[i * n + j]! += v * b[l * n + j]!;
    }
  }
  return c;
}

/** Solves K V + V Kᵀ + Q = 0 (K, Q m×m) by vectorising: (I⊗K + K⊗I) vec V = −vec Q. */
export function lyapunov(k: Float64Array, q: Float64Array, m: number): Float64Array {
  const m2 = m * m;
  const big = new Float64Array(m2 * m2);
  // vec index (i, j) → i*m + j; (K V)_{ij} = Σ_l K_il V_lj, (V Kᵀ)_{ij} = Σ_l V_il K_jl.
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      const row = (i * m + j) * m2;
      for (let l = 0; l < m; l++) {
        big[row + l * m + j]! += k[i * m + l]!;
        big[row + i * m + l]! += k[j * m + l]!;
      }
    }
  }
  const rhs = Float64Array.from(q, (v) => -v);
  return luSolve(luFactor(big, m2), rhs, 1);
}
