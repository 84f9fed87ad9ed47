/**
 * The ask/tell contract every algorithm driver implements. Drivers are pure state machines over
 * typed arrays: no transports, no timers, no I/O, no unkeyed randomness (KeyedRng only). The runner asks for the next
 * round, runs it on the cluster and tells the driver the reduced result.
 */
import type { Op } from '@optfleet/proto';
import type { OperatorGeometry } from './operator/geometry.js';

/** The data of the problem as the drivers see it (from the opened layout and the spec). */
export interface ProblemInfo {
  readonly kind:
    'logistic' | 'least-squares' | 'bilinear-game' | 'matrix-game' | 'dro-logistic' | 'mbbo-quadratic' | 'mbbo-ridge' | 'mbbo-hyperclean';
  /** minimization: min f(w); operator: find u with F(u) = 0 (games, monotone inclusions). */
  readonly family: 'minimization' | 'operator';
  /** Rows n. */
  readonly n: number;
  /** Features d. */
  readonly d: number;
  /** λ of (λ/2)‖w‖². */
  readonly l2: number;
  /**
   * minimization: largest per-row smoothness constant c·max‖x_i‖² + λ (c = 1/4 logistic, 1 least
   * squares). operator: bound on the components' cocoercivity (μ > 0) or Lipschitz constant.
   */
  readonly lMax: number;
  /** The job seed (all randomness is keyed by it). */
  readonly seed: number;
  /** Operator problems: projection, start point and measures (unconstrained when absent). */
  readonly geometry?: OperatorGeometry;
  /** Multi-block bilevel problems (n = m blocks, d = upper dimension). */
  readonly bilevel?: BilevelInfo;
}

/** What bilevel drivers know about an MBBO problem. */
export interface BilevelInfo {
  readonly m: number;
  readonly dy: number;
  /** r(x) = ρΣx_k²/(1+x_k²) + (ν/2)‖x‖², the sample-free upper term (0, 0 for ridge). */
  readonly rho: number;
  readonly nu: number;
  /** Lower bound on every g_i's strong convexity (the default smallest eigenvalue kept in v1's H_i). */
  readonly mu: number;
  /** L_g: the largest block Hessian eigenvalue at x_0 (workers' power iteration, +1%). */
  readonly lg: number;
}

/** Exact bilevel diagnostics at an evaluated point (spec §4(a) item 5). */
export interface BilevelDiagnostics {
  /** ‖z − ∇F(x_t)‖: the STORM estimate used for the last step (built at x_{t−1}) against the exact hypergradient at x_t. */
  readonly estimatorError?: number;
  /** rms_i ‖y_i − y_i*(x_t)‖. */
  readonly yError: number;
  /** v1: rms_i ‖H_i − A_i(x_t)‖_F; v2 / stoch-bilevel: rms_i ‖u_i − u_i*(x_t)‖. */
  readonly trackerError: number;
}

/** A round the driver wants. `evaluation` rounds only measure (their calls are counted apart). */
export interface RoundAsk {
  readonly kind: 'round';
  readonly op: Op;
  readonly points: readonly Float64Array[];
  readonly rows: 'all' | Uint32Array;
  readonly purpose: 'algorithm' | 'evaluation';
}

export interface DoneAsk {
  readonly kind: 'done';
  readonly reason: string;
}

export type Ask = RoundAsk | DoneAsk;

/** A point where the driver knows the exact full objective and gradient norm. */
export interface Observation {
  readonly x: Float64Array;
  /** minimization: f(x); operator problems: NaN (no objective). */
  readonly objective: number;
  /** The stationarity measure: ‖∇f(x)‖ (minimization) or the residual ‖F(x)‖ (operator problems). */
  readonly gradNorm: number;
  /** The driver's iteration count at this point. */
  readonly iteration: number;
  /** Games over simplices: the duality gap at x. */
  readonly gap?: number;
  /**
   * Recursive-estimator health (PAGE): ‖g_t − ∇f(x_{t+1})‖, the estimator g_t just before this
   * full gradient replaces it, against that full gradient. g_t was built at the previous iterate
   * x_t, so besides accumulated sampling and floating-point drift it includes the gradient's change
   * over the step, ‖∇f(x_{t+1}) − ∇f(x_t)‖ ≤ L·η‖g_t‖. Absent for drivers without a recursive
   * estimator and for the first full gradient.
   */
  readonly drift?: number;
  /** Multi-block bilevel: exact estimator and tracking errors. */
  readonly bilevel?: BilevelDiagnostics;
}

export interface Driver {
  ask(): Ask;
  /** The reduced result of the last asked round; returns an observation when one is known. */
  tell(sum: Float64Array): Observation | null;
  /** The current iterate (a copy is not made: do not mutate). */
  iterate(): Float64Array;
  /** Iterations (algorithm steps) taken. */
  iterations(): number;
  /**
   * The round that measures the current iterate exactly, for drivers whose problem the runner
   * cannot evaluate with its generic `loss-grad` round (bilevel); tell() on its result returns the
   * observation.
   */
  closingAsk?(): Ask;
  /** Serializable state; restore() on a fresh driver resumes bit-identically. */
  snapshot(): DriverState;
  restore(state: DriverState): void;
}

/** JSON-safe driver state: numbers, strings and number arrays only. */
export type DriverState = Record<string, number | string | boolean | number[] | number[][] | null>;
