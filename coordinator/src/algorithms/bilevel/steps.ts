/**
 * Resolved BSVRB / stoch-bilevel settings: MSVR γ from theory when not given, the lower steps τ, τ_u
 * from the stability rule of spec §5.3, and the guard that refuses a configuration breaking it.
 *
 * Rule (spec §5.3): a block's lower step feeds back through the MSVR correction with gain ≈ τ·γ·L_g,
 * and full-update semantics repeat a stale step ≈ m/I times between visits, so
 *   τ · γ_eff · L_g ≤ 1,   γ_eff = max(1, γ, m/I if update = 'all').
 * The default τ (and τ_u) is half that bound.
 */
import { ERROR_CODES, OptfleetError, type AlgorithmSpec } from '@optfleet/proto';

type BilevelAlgorithm = Extract<AlgorithmSpec, { name: 'bsvrb-v1' | 'bsvrb-v2' | 'stoch-bilevel' }>;

export interface BilevelSettings {
  /** 0 stoch-bilevel, 1 bsvrb-v1, 2 bsvrb-v2 (the worker's method code). */
  readonly method: 0 | 1 | 2;
  readonly I: number;
  readonly B: number;
  readonly eta: number;
  readonly alpha: number;
  readonly gamma: number;
  readonly beta: number;
  readonly tau: number;
  readonly tauU: number;
  readonly full: boolean;
  readonly hMin: number;
  readonly hMax: number;
  readonly uBound: number;
  readonly evalEvery: number;
  readonly blockSampling: 'uniform' | 'reshuffle';
  readonly divergenceFactor: number;
  /** γ_eff·L_g: τ must stay ≤ 1/this. */
  readonly gain: number;
}

/** MSVR theory: γ = (m−I)/(I(1−α)) + (1−α); the reference code's γ = 0 when α = 1. */
export function theoryGamma(m: number, I: number, alpha: number): number {
  return alpha >= 1 ? 0 : (m - I) / (I * (1 - alpha)) + (1 - alpha);
}

/**
 * @param m blocks, lg the L_g bound (largest block Hessian eigenvalue at x_0), mu the problem's
 * strong-convexity bound (default hMin).
 */
export function resolveBilevel(alg: BilevelAlgorithm, m: number, lg: number, mu: number): BilevelSettings {
  const stoch = alg.name === 'stoch-bilevel';
  const alpha = stoch ? 1 : alg.alpha;
  const beta = stoch ? 1 : alg.beta;
  const gamma = stoch ? 0 : (alg.gamma ?? theoryGamma(m, alg.I, alpha));
  const full = alg.update === 'all';
  const gain = Math.max(1, gamma, full ? m / alg.I : 1) * lg;
  const bound = 1 / gain;
  const tau = alg.tau ?? 0.5 * bound;
  const tauU = alg.tauU ?? tau;
  if (alg.stepGuard) {
    for (const [field, v] of [
      ['tau', tau],
      ['tauU', tauU],
    ] as const) {
      if (v > bound) {
        throw new OptfleetError(
          ERROR_CODES.INVALID_ARGUMENT,
          `spec.algorithm.${field}: ${v} breaks the stability bound ${field}·γ_eff·L_g ≤ 1 (γ_eff = max(1, γ${full ? ', m/I' : ''}) = ${(gain / lg).toPrecision(4)}, L_g = ${lg.toPrecision(4)}, so ${field}·γ_eff·L_g = ${(v * gain).toPrecision(4)}): use ${field} ≤ ${bound.toPrecision(4)}, or set spec.algorithm.stepGuard: false`,
        );
      }
    }
  }
  const v1 = alg.name === 'bsvrb-v1';
  const hMin = v1 ? (alg.hMin ?? mu) : mu;
  const hMax = v1 ? (alg.hMax ?? 2 * lg) : 2 * lg;
  if (hMin >= hMax) {
    throw new OptfleetError(ERROR_CODES.INVALID_ARGUMENT, `spec.algorithm.hMin: ${hMin} is not below hMax = ${hMax} (L_g = ${lg})`);
  }
  return {
    method: v1 ? 1 : stoch ? 0 : 2,
    I: alg.I,
    B: alg.B,
    eta: alg.eta,
    alpha,
    gamma,
    beta,
    tau,
    tauU,
    full,
    hMin,
    hMax,
    uBound: alg.uBound,
    evalEvery: alg.evalEvery,
    blockSampling: alg.blockSampling,
    divergenceFactor: alg.divergenceFactor,
    gain,
  };
}
