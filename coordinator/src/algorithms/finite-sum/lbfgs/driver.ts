/**
 * L-BFGS on full-batch distributed gradients (what Spark MLlib / scipy users know): one round and
 * n oracle calls per function-and-gradient evaluation. Two-loop recursion with H₀ = sᵀy/yᵀy,
 * backtracking line search (step 1, first step 1/‖g‖; quadratic interpolation clamped to
 * [0.1α, 0.5α]) accepting Armijo or, at float64 noise level, approximate-Wolfe steps; pairs with sᵀy ≤ 1e-12·‖s‖‖y‖ are skipped so H stays positive definite.
 * Every accepted point is an exact observation of f and ‖∇f‖.
 */
import type { Ask, Driver, DriverState, Observation, ProblemInfo } from '../../driver.js';
import { fullObjective, norm2 } from '../objective.js';

export interface LbfgsParams {
  readonly memory: number;
  readonly c1: number;
  readonly maxLineSearch: number;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

export class LbfgsDriver implements Driver {
  private x: Float64Array;
  private f = NaN;
  private g: Float64Array;
  private S: Float64Array[] = [];
  private Y: Float64Array[] = [];
  private dir: Float64Array;
  private alpha = 1;
  private slope = 0;
  private trial: Float64Array;
  private phase: 'init' | 'search' | 'stalled' = 'init';
  private tries = 0;
  private iter = 0;
  private stallReason = '';

  constructor(
    private readonly p: ProblemInfo,
    private readonly params: LbfgsParams,
    x0: Float64Array = new Float64Array(p.d),
  ) {
    this.x = x0.slice();
    this.g = new Float64Array(p.d);
    this.dir = new Float64Array(p.d);
    this.trial = x0.slice();
  }

  ask(): Ask {
    if (this.phase === 'stalled') return { kind: 'done', reason: this.stallReason };
    const at = this.phase === 'init' ? this.x : this.trial;
    return { kind: 'round', op: 'loss-grad', points: [at], rows: 'all', purpose: 'algorithm' };
  }

  /** d = −H g by the two-loop recursion. */
  private direction(): void {
    const q = this.g.slice();
    const k = this.S.length;
    const a = new Float64Array(k);
    for (let i = k - 1; i >= 0; i--) {
      const rho = 1 / dot(this.Y[i]!, this.S[i]!);
      a[i] = rho * dot(this.S[i]!, q);
      const y = this.Y[i]!;
      for (let j = 0; j < q.length; j++) q[j] = q[j]! - a[i]! * y[j]!;
    }
    if (k > 0) {
      const y = this.Y[k - 1]!;
      const gamma = dot(this.S[k - 1]!, y) / dot(y, y);
      for (let j = 0; j < q.length; j++) q[j] = q[j]! * gamma;
    }
    for (let i = 0; i < k; i++) {
      const rho = 1 / dot(this.Y[i]!, this.S[i]!);
      const beta = rho * dot(this.Y[i]!, q);
      const s = this.S[i]!;
      for (let j = 0; j < q.length; j++) q[j] = q[j]! + (a[i]! - beta) * s[j]!;
    }
    for (let j = 0; j < q.length; j++) this.dir[j] = -q[j]!;
    this.slope = dot(this.g, this.dir);
    if (!(this.slope < 0)) {
      // Not a descent direction (rounding near the optimum): restart from steepest descent.
      this.S = [];
      this.Y = [];
      for (let j = 0; j < q.length; j++) this.dir[j] = -this.g[j]!;
      this.slope = dot(this.g, this.dir);
    }
  }

  private startSearch(): void {
    this.direction();
    this.alpha = this.S.length === 0 ? Math.min(1, 1 / norm2(this.g)) : 1;
    this.tries = 0;
    this.setTrial();
    this.phase = 'search';
  }

  private setTrial(): void {
    for (let j = 0; j < this.x.length; j++) this.trial[j] = this.x[j]! + this.alpha * this.dir[j]!;
  }

  tell(sum: Float64Array): Observation | null {
    if (this.phase === 'init') {
      const { objective, grad } = fullObjective(this.p, this.x, sum);
      this.f = objective;
      this.g = grad;
      const obs = { x: this.x.slice(), objective, gradNorm: norm2(grad), iteration: 0 };
      if (obs.gradNorm > 0) this.startSearch();
      return obs;
    }
    const { objective: ft, grad: gt } = fullObjective(this.p, this.trial, sum);
    if (this.accept(ft, gt)) {
      const s = new Float64Array(this.x.length);
      const y = new Float64Array(this.x.length);
      for (let j = 0; j < s.length; j++) {
        s[j] = this.trial[j]! - this.x[j]!;
        y[j] = gt[j]! - this.g[j]!;
      }
      const sy = dot(s, y);
      if (sy > 1e-12 * norm2(s) * norm2(y)) {
        this.S.push(s);
        this.Y.push(y);
        if (this.S.length > this.params.memory) {
          this.S.shift();
          this.Y.shift();
        }
      }
      this.x = this.trial.slice();
      this.f = ft;
      this.g = gt;
      this.iter++;
      const obs = { x: this.x.slice(), objective: ft, gradNorm: norm2(gt), iteration: this.iter };
      if (obs.gradNorm > 0) this.startSearch();
      else this.stall('gradient is exactly zero');
      return obs;
    }
    this.tries++;
    if (this.tries >= this.params.maxLineSearch) {
      // f cannot be decreased along a descent direction: we are at the limit of float64 precision.
      this.stall(`line search found no decrease in ${this.params.maxLineSearch} evaluations (f at float64 precision)`);
      return null;
    }
    if (!Number.isFinite(ft)) {
      this.alpha *= 0.1;
    } else {
      const denom = 2 * (ft - this.f - this.slope * this.alpha);
      let next = denom > 0 ? (-this.slope * this.alpha * this.alpha) / denom : 0.5 * this.alpha;
      next = Math.min(Math.max(next, 0.1 * this.alpha), 0.5 * this.alpha);
      this.alpha = next;
    }
    this.setTrial();
    return null;
  }

  /**
   * Armijo, or — once f differences reach float64 noise — the approximate Wolfe conditions of
   * Hager & Zhang (2005): f(x+αd) ≤ f(x) + ε|f| and σφ'(0) ≤ φ'(α) ≤ (2δ−1)φ'(0), δ = 0.1, σ = 0.9.
   * Without the second test, Armijo near the optimum compares values that differ only in their
   * last bits and the search either accepts non-steps or fails forever.
   */
  private accept(ft: number, gt: Float64Array): boolean {
    if (ft <= this.f + this.params.c1 * this.alpha * this.slope) return true;
    if (!(ft <= this.f + 1e-12 * Math.abs(this.f))) return false;
    const slopeT = dot(gt, this.dir);
    return slopeT >= 0.9 * this.slope && slopeT <= -0.8 * this.slope;
  }

  private stall(reason: string): void {
    this.phase = 'stalled';
    this.stallReason = reason;
  }

  iterate(): Float64Array {
    return this.x;
  }

  iterations(): number {
    return this.iter;
  }

  snapshot(): DriverState {
    return {
      x: [...this.x],
      f: this.f,
      g: [...this.g],
      S: this.S.map((s) => [...s]),
      Y: this.Y.map((y) => [...y]),
      dir: [...this.dir],
      alpha: this.alpha,
      slope: this.slope,
      trial: [...this.trial],
      phase: this.phase,
      tries: this.tries,
      iter: this.iter,
      stallReason: this.stallReason,
    };
  }

  restore(s: DriverState): void {
    const arr = (k: string): Float64Array => Float64Array.from(s[k] as number[]);
    this.x = arr('x');
    this.f = s['f'] as number;
    this.g = arr('g');
    this.S = (s['S'] as number[][]).map((v) => Float64Array.from(v));
    this.Y = (s['Y'] as number[][]).map((v) => Float64Array.from(v));
    this.dir = arr('dir');
    this.alpha = s['alpha'] as number;
    this.slope = s['slope'] as number;
    this.trial = arr('trial');
    this.phase = s['phase'] as 'init' | 'search' | 'stalled';
    this.tries = s['tries'] as number;
    this.iter = s['iter'] as number;
    this.stallReason = s['stallReason'] as string;
  }
}
