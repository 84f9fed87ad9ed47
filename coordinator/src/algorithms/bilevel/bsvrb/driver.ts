/**
 * BSVRB^v1, BSVRB^v2 (Hu, Qiu, Guo, Zhang, Yang, ICML 2023; MBBO spec §2) and the stoch-bilevel
 * baseline, as one ask/tell state machine: the per-block work (lower steps, MSVR trackers, the
 * blocks' hypergradient estimates at x_t and x_{t−1}) runs on the workers that own the blocks
 * (`mbbo-step`); this driver samples the blocks, keeps x_t, x_{t−1} and the STORM estimate z, and
 * every `evalEvery` iterations asks for an exact evaluation (`mbbo-eval`: ‖∇F‖, F, tracking errors).
 *
 *   z_{t+1} = (1−β)·z_t + (1/I)·Σ_{i∈I_t} (G_i^new − (1−β)·G_i^old),   x_{t+1} = x_t − η·z_{t+1}
 *
 * with β = 1 at t = 0 (z_1 = Ḡ_0^new) and x_{−1} = x_0. The sample-free ∇_x f = ∇r(x) part of every
 * G_i is added here exactly; the workers return the implicit part −∇²_xy g_i·w_i.
 */
import { ERROR_CODES, MBBO_EVAL_PARAMS, MBBO_STEP_PARAMS, OptfleetError, type AlgorithmSpec } from '@optfleet/proto';
import type { Ask, Driver, DriverState, Observation, ProblemInfo, BilevelInfo, RoundAsk } from '../../driver.js';
import { norm2 } from '../../finite-sum/objective.js';
import { ReshuffleBlocks, uniformBlocks } from '../block-sampler.js';
import { resolveBilevel, type BilevelSettings } from '../steps.js';
import { upperGrad, upperValue } from '../upper.js';

type BilevelAlgorithm = Extract<AlgorithmSpec, { name: 'bsvrb-v1' | 'bsvrb-v2' | 'stoch-bilevel' }>;

export class BsvrbDriver implements Driver {
  readonly settings: BilevelSettings;
  private readonly b: BilevelInfo;
  private x: Float64Array;
  private xPrev: Float64Array;
  private z: Float64Array;
  private t = 0;
  private evaluatedAt = -1;
  private firstGrad = NaN;
  private pending: 'eval' | 'step' = 'eval';
  private lastBlocks = 0;
  private readonly reshuffle: ReshuffleBlocks;
  private readonly gr: Float64Array;
  private readonly grPrev: Float64Array;

  constructor(
    private readonly p: ProblemInfo,
    alg: BilevelAlgorithm,
    x0: Float64Array = new Float64Array(p.d),
  ) {
    if (p.bilevel === undefined) throw new OptfleetError(ERROR_CODES.INVALID_ARGUMENT, `${alg.name} needs a multi-block bilevel problem`);
    this.b = p.bilevel;
    this.settings = resolveBilevel(alg, this.b.m, this.b.lg, this.b.mu);
    this.x = x0.slice();
    this.xPrev = x0.slice();
    this.z = new Float64Array(p.d);
    this.reshuffle = new ReshuffleBlocks(p.seed, this.b.m, this.settings.I);
    this.gr = new Float64Array(p.d);
    this.grPrev = new Float64Array(p.d);
  }

  /** β of iteration t: 1 at t = 0 (the estimator starts at the plain mini-batch value). */
  private betaAt(t: number): number {
    return t === 0 ? 1 : this.settings.beta;
  }

  private evalAsk(): RoundAsk {
    const s = this.settings;
    const P = MBBO_EVAL_PARAMS;
    const params = new Float64Array(P.length);
    params[P.t] = this.t;
    params[P.method] = s.method;
    params[P.tau] = s.tau;
    params[P.tauU] = s.tauU;
    params[P.fullUpdate] = s.full ? 1 : 0;
    params[P.uBound] = s.uBound;
    this.pending = 'eval';
    return { kind: 'round', op: 'mbbo-eval', points: [this.x, params], rows: 'all', purpose: 'evaluation' };
  }

  /** The blocks iteration t samples (sorted global ids). */
  blocksAt(t: number): Uint32Array {
    const s = this.settings;
    return s.blockSampling === 'uniform' ? uniformBlocks(this.p.seed, t, this.b.m, s.I) : this.reshuffle.blocks(t);
  }

  ask(): Ask {
    if (this.t % this.settings.evalEvery === 0 && this.evaluatedAt !== this.t) return this.evalAsk();
    const s = this.settings;
    const P = MBBO_STEP_PARAMS;
    const params = new Float64Array(P.length);
    params[P.t] = this.t;
    params[P.method] = s.method;
    params[P.B] = s.B;
    params[P.alpha] = s.alpha;
    params[P.gamma] = s.gamma;
    params[P.beta] = this.betaAt(this.t);
    params[P.tau] = s.tau;
    params[P.tauU] = s.tauU;
    params[P.fullUpdate] = s.full ? 1 : 0;
    params[P.hMin] = s.hMin;
    params[P.hMax] = s.hMax;
    params[P.uBound] = s.uBound;
    const rows = this.blocksAt(this.t);
    this.lastBlocks = rows.length;
    this.pending = 'step';
    return { kind: 'round', op: 'mbbo-step', points: [this.x, this.xPrev, params], rows, purpose: 'algorithm' };
  }

  closingAsk(): Ask {
    return this.evalAsk();
  }

  tell(sum: Float64Array): Observation | null {
    const d = this.p.d;
    const { rho, nu, m } = this.b;
    if (this.pending === 'eval') {
      this.evaluatedAt = this.t;
      const grad = upperGrad(this.x, rho, nu, new Float64Array(d));
      for (let k = 0; k < d; k++) grad[k] = grad[k]! + sum[k]! / m;
      const gradNorm = norm2(grad);
      const objective = upperValue(this.x, rho, nu) + sum[d]! / m;
      let estimatorError: number | undefined;
      if (this.t > 0) {
        let e = 0;
        for (let k = 0; k < d; k++) e += (this.z[k]! - grad[k]!) ** 2;
        estimatorError = Math.sqrt(e);
      }
      if (Number.isNaN(this.firstGrad)) this.firstGrad = gradNorm;
      const limit = this.settings.divergenceFactor * Math.max(this.firstGrad, 1e-12);
      if (gradNorm > limit) {
        throw new OptfleetError(
          ERROR_CODES.DIVERGED,
          `‖∇F‖ = ${gradNorm.toExponential(3)} at iteration ${this.t} is over divergenceFactor (${this.settings.divergenceFactor}) × its first value ${this.firstGrad.toExponential(3)}: the iteration diverged (lower eta or tau)`,
        );
      }
      return {
        x: this.x.slice(),
        objective,
        gradNorm,
        iteration: this.t,
        bilevel: {
          ...(estimatorError === undefined ? {} : { estimatorError }),
          yError: Math.sqrt(sum[d + 1]! / m),
          trackerError: Math.sqrt(sum[d + 2]! / m),
        },
      };
    }
    const beta = this.betaAt(this.t);
    upperGrad(this.x, rho, nu, this.gr);
    upperGrad(this.xPrev, rho, nu, this.grPrev);
    const invI = 1 / this.lastBlocks;
    const eta = this.settings.eta;
    for (let k = 0; k < d; k++) {
      const gz = (sum[k]! + this.lastBlocks * (this.gr[k]! - (1 - beta) * this.grPrev[k]!)) * invI;
      this.z[k] = (1 - beta) * this.z[k]! + gz;
    }
    this.xPrev.set(this.x);
    for (let k = 0; k < d; k++) this.x[k] = this.x[k]! - eta * this.z[k]!;
    this.t++;
    return null;
  }

  iterate(): Float64Array {
    return this.x;
  }

  iterations(): number {
    return this.t;
  }

  snapshot(): DriverState {
    return {
      x: [...this.x],
      xPrev: [...this.xPrev],
      z: [...this.z],
      t: this.t,
      evaluatedAt: this.evaluatedAt,
      firstGrad: Number.isNaN(this.firstGrad) ? null : this.firstGrad,
    };
  }

  restore(s: DriverState): void {
    this.x = Float64Array.from(s['x'] as number[]);
    this.xPrev = Float64Array.from(s['xPrev'] as number[]);
    this.z = Float64Array.from(s['z'] as number[]);
    this.t = s['t'] as number;
    this.evaluatedAt = s['evaluatedAt'] as number;
    this.firstGrad = s['firstGrad'] === null ? NaN : (s['firstGrad'] as number);
  }
}
