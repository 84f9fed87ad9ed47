/**
 * Asymptotic covariance of SA-SRRW (spec §1.5, derived there by linearising the two-time-scale
 * SA): tr V_θ(α) for the three step regimes, computed with dense solves (no eigensolver):
 *   Γ = D_μ Z + Zᵀ D_μ − D_μ − μμᵀ, Z = (I − P + 1μᵀ)⁻¹ (the base chain's sampling covariance)
 *   A = −(α(I + Pᵀ) + I)
 *   (i)  a < b: (J + c_b I)V + V(J + c_b I)ᵀ + Hᵀ A⁻¹ Γ A⁻ᵀ H = 0
 *   (ii) a = b: M Σ + Σ Mᵀ + G Γ Gᵀ = 0, M = [[A, 0], [Hᵀ(A + I), J]] (+ I/2 if a = b = 1), G = [I; Hᵀ]; V = Σ_θθ
 *   (iii) a > b, and α = 0: (J + c_b I)V + V(J + c_b I)ᵀ + Hᵀ Γ H = 0
 * c_b = ½ if b = 1. i.i.d. sampling from μ: Γ replaced by D_μ − μμᵀ.
 */
import { lyapunov, luFactor, luSolve, matMul, transpose } from './dense.js';

/** Largest N for the N×N solves, and N + d for the case-(ii) Lyapunov equation ((N+d)² unknowns). */
export const THEORY_MAX_NODES = 2000;
export const THEORY_MAX_JOINT = 30;
export const THEORY_MAX_DIM = 30;

export interface TheoryInput {
  /** N nodes; dense P (N×N row-major) and μ. */
  readonly n: number;
  readonly p: Float64Array;
  readonly mu: Float64Array;
  /** H(θ*, i) rows: N×d. */
  readonly h: Float64Array;
  /** J = ∇h(θ*): d×d. */
  readonly j: Float64Array;
  readonly d: number;
  readonly a: number;
  readonly b: number;
  /** 'chain': a walk on P; 'iid': agents sampled independently from μ. */
  readonly sampling: 'chain' | 'iid';
}

export class SrrwTheory {
  private readonly gammaFns: (y: Float64Array, k: number) => Float64Array;

  constructor(private readonly t: TheoryInput) {
    const { n, p, mu } = t;
    if (t.sampling === 'iid') {
      this.gammaFns = (y, k) => {
        const out = new Float64Array(n * k);
        const my = new Float64Array(k);
        for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) my[c]! += mu[i]! * y[i * k + c]!;
        for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) out[i * k + c] = mu[i]! * y[i * k + c]! - mu[i]! * my[c]!;
        return out;
      };
      return;
    }
    // M = I − P + 1μᵀ; Z = M⁻¹. Γ Y = D_μ (Z Y) + Zᵀ (D_μ Y) − D_μ Y − μ (μᵀ Y).
    const m = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let c = 0; c < n; c++) m[i * n + c] = (i === c ? 1 : 0) - p[i * n + c]! + mu[c]!;
    const lu = luFactor(m, n);
    const luT = luFactor(transpose(m, n, n), n);
    this.gammaFns = (y, k) => {
      const zy = luSolve(lu, y, k);
      const dy = new Float64Array(n * k);
      for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) dy[i * k + c] = mu[i]! * y[i * k + c]!;
      const ztdy = luSolve(luT, dy, k);
      const my = new Float64Array(k);
      for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) my[c]! += mu[i]! * y[i * k + c]!;
      const out = new Float64Array(n * k);
      for (let i = 0; i < n; i++) {
        for (let c = 0; c < k; c++) {
          out[i * k + c] = mu[i]! * zy[i * k + c]! + ztdy[i * k + c]! - dy[i * k + c]! - mu[i]! * my[c]!;
        }
      }
      return out;
    };
  }

  /** Γ applied to the N×k matrix y. */
  gamma(y: Float64Array, k: number): Float64Array {
    return this.gammaFns(y, k);
  }

  private cb(): number {
    return this.t.b === 1 ? 0.5 : 0;
  }

  /** Solves (J + c_b I)V + V(J + c_b I)ᵀ + U = 0 and returns V. */
  private thetaLyapunov(u: Float64Array): Float64Array {
    const { d, j } = this.t;
    const k = j.slice();
    for (let i = 0; i < d; i++) k[i * d + i]! += this.cb();
    return lyapunov(k, u, d);
  }

  /**
   * The CLT needs J + c_b I Hurwitz (spec §1.5). J = −(1/N) Σ ∇²F_i is symmetric here, so that is
   * −(J + c_b I) positive definite: a Cholesky factorisation succeeds. (Logistic with κ = 0 and
   * b = 1 can fail it: then there is no finite V_θ and the theory is null.)
   */
  stable(): boolean {
    const { d, j } = this.t;
    const m = new Float64Array(d * d);
    for (let r = 0; r < d; r++) for (let c = 0; c < d; c++) m[r * d + c] = -j[r * d + c]! - (r === c ? this.cb() : 0);
    for (let k = 0; k < d; k++) {
      let diag = m[k * d + k]!;
      for (let l = 0; l < k; l++) diag -= m[k * d + l]! ** 2;
      if (!(diag > 0)) return false;
      const piv = Math.sqrt(diag);
      m[k * d + k] = piv;
      for (let r = k + 1; r < d; r++) {
        let v = m[r * d + k]!;
        for (let l = 0; l < k; l++) v -= m[r * d + l]! * m[k * d + l]!;
        m[r * d + k] = v / piv;
      }
    }
    return true;
  }

  /** V_θ(α) (d×d) for the job's regime, or null where the formula does not apply or is too large. */
  covariance(alpha: number): Float64Array | null {
    const { n, d, h, a, b, p } = this.t;
    if (n > THEORY_MAX_NODES || d > THEORY_MAX_DIM || !this.stable()) return null;
    if (this.t.sampling === 'iid' || alpha === 0 || a > b) {
      const u = matMul(transpose(h, n, d), this.gamma(h, d), d, n, d);
      return this.thetaLyapunov(u);
    }
    if (a < b) {
      // Y = A⁻ᵀ H: Aᵀ = −(α(I + P) + I).
      const at = new Float64Array(n * n);
      for (let i = 0; i < n; i++)
        for (let c = 0; c < n; c++) at[i * n + c] = -(alpha * ((i === c ? 1 : 0) + p[i * n + c]!) + (i === c ? 1 : 0));
      const y = luSolve(luFactor(at, n), h, d);
      const u = matMul(transpose(y, n, d), this.gamma(y, d), d, n, d);
      return this.thetaLyapunov(u);
    }
    return this.jointCovariance(alpha);
  }

  /** Case (ii), a = b: the joint (x, θ) Lyapunov equation; V is its θθ block. */
  private jointCovariance(alpha: number): Float64Array | null {
    const { n, d, h, p, j, a, b } = this.t;
    const m = n + d;
    if (m > THEORY_MAX_JOINT) return null;
    const big = new Float64Array(m * m);
    const half = a === 1 && b === 1 ? 0.5 : 0;
    // A = −(α(I + Pᵀ) + I); lower-left block Hᵀ(A + I).
    const aMat = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let c = 0; c < n; c++) aMat[i * n + c] = -(alpha * ((i === c ? 1 : 0) + p[c * n + i]!) + (i === c ? 1 : 0));
    for (let i = 0; i < n; i++) for (let c = 0; c < n; c++) big[i * m + c] = aMat[i * n + c]!;
    const aPlusI = aMat.slice();
    for (let i = 0; i < n; i++) aPlusI[i * n + i]! += 1;
    const ht = transpose(h, n, d);
    const low = matMul(ht, aPlusI, d, n, n);
    for (let r = 0; r < d; r++) {
      for (let c = 0; c < n; c++) big[(n + r) * m + c] = low[r * n + c]!;
      for (let c = 0; c < d; c++) big[(n + r) * m + n + c] = j[r * d + c]!;
    }
    for (let i = 0; i < m; i++) big[i * m + i]! += half;
    // G Γ Gᵀ with G = [I_N; Hᵀ].
    const gFull = new Float64Array(n * m);
    for (let i = 0; i < n; i++) {
      gFull[i * m + i] = 1;
      for (let c = 0; c < d; c++) gFull[i * m + n + c] = h[i * d + c]!;
    }
    // Gᵀ as N×m is gFull; Q = (gFull)ᵀ Γ gFull.
    const q = matMul(transpose(gFull, n, m), this.gamma(gFull, m), m, n, m);
    const sigma = lyapunov(big, q, m);
    const v = new Float64Array(d * d);
    for (let r = 0; r < d; r++) for (let c = 0; c < d; c++) v[r * d + c] = sigma[(n + r) * m + n + c]!;
    return v;
  }

  /** tr V_θ(α), or null. */
  trace(alpha: number): number | null {
    const v = this.covariance(alpha);
    if (v === null) return null;
    let s = 0;
    for (let i = 0; i < this.t.d; i++) s += v[i * this.t.d + i]!;
    return s;
  }
}
