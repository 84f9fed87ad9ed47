/**
 * The coordinator's side of an operator problem 0 ∈ F(u) + G(u): the resolvent J_{ηG} (here a
 * projection: identity for unconstrained games, onto Δ×Δ for the matrix game), the starting point,
 * and the measures reported per observation — the residual (‖F(u)‖ unconstrained; the natural
 * residual r₁(u) = ‖u − Π(u − F(u))‖ with constraints, as the reference code reports) and, for
 * games over simplices, the duality gap max_i(Ax)_i − min_j(Aᵀy)_j (≥ 0, = 0 exactly at equilibria).
 */
import type { JobSpec } from '@optfleet/proto';
import { norm2 } from '../finite-sum/objective.js';

export interface OperatorGeometry {
  /** Projects v onto the feasible set in place (J_{ηG} for an indicator G). */
  project(v: Float64Array): void;
  /** The starting point u₀ (feasible). */
  start(d: number): Float64Array;
  /** Residual and, where defined, duality gap at u given F(u). */
  measure(u: Float64Array, F: Float64Array): { residual: number; gap?: number };
  /**
   * A deterministic part of F the coordinator adds exactly (zero variance, so estimators stay
   * unbiased): F += R(at) when `affine`, F += R(at) − R(0) (the linear part) otherwise.
   */
  regularize?(at: Float64Array, F: Float64Array, affine: boolean): void;
}

/** Euclidean projection of v[off..off+len) onto the probability simplex, in place (sort-based, O(len log len)). */
export function projectSimplex(v: Float64Array, off: number, len: number): void {
  const s = Array.from(v.subarray(off, off + len)).sort((a, b) => b - a);
  let cum = 0;
  let theta = 0;
  for (let k = 0; k < len; k++) {
    cum += s[k]!;
    const t = (cum - 1) / (k + 1);
    if (k === len - 1 || s[k + 1]! <= t) {
      theta = t;
      break;
    }
  }
  for (let j = off; j < off + len; j++) v[j] = Math.max(v[j]! - theta, 0);
}

const UNCONSTRAINED: OperatorGeometry = {
  project: () => undefined,
  start: (d) => new Float64Array(d),
  measure: (_u, F) => ({ residual: norm2(F) }),
};

function simplexPair(N: number): OperatorGeometry {
  const project = (v: Float64Array): void => {
    projectSimplex(v, 0, N);
    projectSimplex(v, N, N);
  };
  return {
    project,
    start: (d) => new Float64Array(d).fill(1 / N),
    measure: (u, F) => {
      const w = new Float64Array(u.length);
      for (let j = 0; j < u.length; j++) w[j] = u[j]! - F[j]!;
      project(w);
      let r = 0;
      for (let j = 0; j < u.length; j++) r += (u[j]! - w[j]!) ** 2;
      // F = (Aᵀy, −Ax): max_i (Ax)_i = max_i −F_{N+i}, min_j (Aᵀy)_j = min_j F_j.
      let maxAx = -Infinity;
      let minATy = Infinity;
      for (let i = 0; i < N; i++) {
        maxAx = Math.max(maxAx, -F[N + i]!);
        minATy = Math.min(minATy, F[i]!);
      }
      return { residual: Math.sqrt(r), gap: maxAx - minATy };
    },
  };
}

/**
 * DRO logistic regression over u = (x (dx), q (n)): q projected onto n·Δ, start (0, 1), natural
 * residual r₁, and the regulariser R(x, q) = (λx, (ρ/n)(q − 1)).
 */
function droGeometry(dx: number, n: number, lambda: number, rho: number): OperatorGeometry {
  const project = (v: Float64Array): void => {
    // Π_{n·Δ}(q) = n·Π_Δ(q/n).
    for (let i = dx; i < dx + n; i++) v[i] = v[i]! / n;
    projectSimplex(v, dx, n);
    for (let i = dx; i < dx + n; i++) v[i] = v[i]! * n;
  };
  return {
    project,
    start: (d) => {
      const u = new Float64Array(d);
      u.fill(1, dx);
      return u;
    },
    measure: (u, F) => {
      const w = new Float64Array(u.length);
      for (let j = 0; j < u.length; j++) w[j] = u[j]! - F[j]!;
      project(w);
      let r = 0;
      for (let j = 0; j < u.length; j++) r += (u[j]! - w[j]!) ** 2;
      return { residual: Math.sqrt(r) };
    },
    regularize: (at, F, affine) => {
      for (let j = 0; j < dx; j++) F[j] = F[j]! + lambda * at[j]!;
      const c = rho / n;
      for (let i = dx; i < dx + n; i++) F[i] = F[i]! + c * (at[i]! - (affine ? 1 : 0));
    },
  };
}

/** The geometry of a job's operator problem (d = dimension of u). */
export function operatorGeometry(problem: JobSpec['problem'], d: number): OperatorGeometry {
  if (problem.kind === 'matrix-game') return simplexPair(d / 2);
  if (problem.kind === 'dro-logistic') return droGeometry(problem.data.d, problem.data.n, problem.l2, problem.rho);
  return UNCONSTRAINED;
}
