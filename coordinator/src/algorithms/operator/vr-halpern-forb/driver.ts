/**
 * VR-Halpern Algorithm 2 (Cai, Alacaoglu & Diakonikolas 2024), for monotone Lipschitz (not
 * necessarily cocoercive) finite sums: an inexact Halpern iteration on the resolvent
 *   u_{k+1} = λ_k u₀ + (1 − λ_k)·ṽ_k,  λ_k = 1/(k+2),  ṽ_k ≈ J_{η(F+G)}(u_k),
 * where ṽ_k comes from M_k steps of VR-FoRB (Alacaoglu & Malitsky 2022) on the 1-strongly
 * monotone Φ(v) = ηF(v) + v − u_k:
 *   v̄ = αv + (1−α)w;  est = Φ(w) + (1/b)Σ_{i∈S}[Φ_i(v) − Φ_i(w_prev)];  v ← J(v̄ − τ·est);
 *   w_prev ← w;  with probability p: w ← v, Φ(w) recomputed (full pass).
 * Inner-loop choice (spec §7 option (i)): `batchSize` b components per step, default ⌈√n⌉ —
 * the default because a cluster round per single-sample step is latency-bound; b = 1 is the
 * paper's single-sample VR-FoRB. p = b/n, α = 1 − p, τ = γ·√b·√(p(1−p))/L_Φ with L_Φ = 1 + ηL,
 * M_k = ⌈c·(n/b)·ln(k+2)⌉ (the reference code's 0.05·n·ln(k+2) for b = 1, scaled by 1/b).
 * The snapshot resets to the inner iterate v (the paper's VR-FoRB), not to u_k as the reference
 * code does. Costs: each outer iteration 1 round/n calls for Φ(u_k) (an exact observation of the
 * residual at u_k), then M_k rounds of 2b calls plus ≈ p·M_k snapshot rounds of n calls.
 * Defaults: η = √n/L, γ = 0.9, c = 0.05.
 */
import { COORDINATOR_SHARD, KeyedRng } from '@optfleet/proto';
import type { Ask, Driver, DriverState, Observation, ProblemInfo } from '../../driver.js';
import { sampleDistinctRows } from '../../finite-sum/objective.js';
import { meanDifference, meanOperator, observe, project } from '../residual.js';

export interface VrHalpernForbParams {
  /** Resolvent step η (default √n/L). */
  readonly stepSize?: number | undefined;
  /** Components per inner step (default ⌈√n⌉; 1 = single-sample VR-FoRB). */
  readonly batchSize?: number | undefined;
  /** γ in τ = γ·√b·√(p(1−p))/L_Φ. */
  readonly gamma: number;
  /** c in M_k = ⌈c·(n/b)·ln(k+2)⌉. */
  readonly innerFactor: number;
}

type Phase = 'outer' | 'inner' | 'snapshot';

export class VrHalpernForbDriver implements Driver {
  private readonly u0: Float64Array;
  private u: Float64Array;
  private v: Float64Array;
  private w: Float64Array;
  private wPrev: Float64Array;
  private phiW: Float64Array;
  private phase: Phase = 'outer';
  private k = 0;
  private t = 0;
  private steps = 0;
  private lastRows: Uint32Array = new Uint32Array(0);
  readonly eta: number;
  readonly b: number;
  readonly prob: number;
  readonly tau: number;

  constructor(
    private readonly p: ProblemInfo,
    private readonly params: VrHalpernForbParams,
    x0: Float64Array = new Float64Array(p.d),
  ) {
    this.u0 = x0.slice();
    this.u = x0.slice();
    this.v = x0.slice();
    this.w = x0.slice();
    this.wPrev = x0.slice();
    this.phiW = new Float64Array(p.d);
    this.eta = params.stepSize ?? Math.sqrt(p.n) / p.lMax;
    this.b = Math.min(params.batchSize ?? Math.ceil(Math.sqrt(p.n)), p.n);
    this.prob = this.b / p.n;
    const lPhi = 1 + this.eta * p.lMax;
    this.tau = (params.gamma * Math.sqrt(this.b) * Math.sqrt(this.prob * (1 - this.prob))) / lPhi || params.gamma / lPhi;
  }

  /** Inner steps of outer iteration k. */
  innerSteps(k: number): number {
    return Math.max(1, Math.ceil((this.params.innerFactor * this.p.n * Math.log(k + 2)) / this.b));
  }

  ask(): Ask {
    switch (this.phase) {
      case 'outer':
        return { kind: 'round', op: 'op-eval', points: [this.u], rows: 'all', purpose: 'algorithm' };
      case 'snapshot':
        return { kind: 'round', op: 'op-eval', points: [this.w], rows: 'all', purpose: 'algorithm' };
      case 'inner':
        this.lastRows = sampleDistinctRows(new KeyedRng(this.p.seed, this.steps, COORDINATOR_SHARD, 'forb-batch'), this.p.n, this.b);
        return { kind: 'round', op: 'op-diff', points: [this.v, this.wPrev], rows: this.lastRows, purpose: 'algorithm' };
    }
  }

  /** Φ(w) = ηF(w) + w − u. */
  private setPhiW(F: Float64Array): void {
    for (let j = 0; j < this.p.d; j++) this.phiW[j] = this.eta * F[j]! + this.w[j]! - this.u[j]!;
  }

  private endOuter(): void {
    const lambda = 1 / (this.k + 2);
    for (let j = 0; j < this.p.d; j++) this.u[j] = lambda * this.u0[j]! + (1 - lambda) * this.v[j]!;
    // A convex combination of feasible points stays feasible; project anyway against rounding.
    project(this.p, this.u);
    this.k++;
    this.phase = 'outer';
  }

  tell(sum: Float64Array): Observation | null {
    const d = this.p.d;
    if (this.phase === 'outer') {
      const F = meanOperator(this.p, sum, this.u);
      const obs = observe(this.p, this.u, F, this.k);
      this.v = this.u.slice();
      this.w = this.u.slice();
      this.wPrev = this.u.slice();
      this.setPhiW(F);
      this.t = 0;
      this.phase = 'inner';
      return obs;
    }
    if (this.phase === 'snapshot') {
      this.setPhiW(meanOperator(this.p, sum, this.w));
      if (this.t >= this.innerSteps(this.k)) this.endOuter();
      else this.phase = 'inner';
      return null;
    }
    const D = meanDifference(this.p, sum, this.lastRows.length, this.v, this.wPrev);
    const alpha = 1 - this.prob;
    const next = new Float64Array(d);
    for (let j = 0; j < d; j++) {
      const est = this.phiW[j]! + this.eta * D[j]! + (this.v[j]! - this.wPrev[j]!);
      const vBar = alpha * this.v[j]! + (1 - alpha) * this.w[j]!;
      next[j] = vBar - this.tau * est;
    }
    this.v = project(this.p, next);
    this.wPrev = this.w;
    this.t++;
    this.steps++;
    const coin = new KeyedRng(this.p.seed, this.steps, COORDINATOR_SHARD, 'forb-coin').nextFloat();
    if (coin < this.prob) {
      this.w = this.v.slice();
      this.phase = 'snapshot';
      return null;
    }
    if (this.t >= this.innerSteps(this.k)) this.endOuter();
    return null;
  }

  iterate(): Float64Array {
    return this.phase === 'outer' ? this.u : this.v;
  }

  iterations(): number {
    return this.k;
  }

  snapshot(): DriverState {
    return {
      u0: [...this.u0],
      u: [...this.u],
      v: [...this.v],
      w: [...this.w],
      wPrev: [...this.wPrev],
      phiW: [...this.phiW],
      phase: this.phase,
      k: this.k,
      t: this.t,
      steps: this.steps,
    };
  }

  restore(s: DriverState): void {
    const a = (key: string): Float64Array => Float64Array.from(s[key] as number[]);
    this.u0.set(s['u0'] as number[]);
    this.u = a('u');
    this.v = a('v');
    this.w = a('w');
    this.wPrev = a('wPrev');
    this.phiW = a('phiW');
    this.phase = s['phase'] as Phase;
    this.k = s['k'] as number;
    this.t = s['t'] as number;
    this.steps = s['steps'] as number;
  }
}
