/**
 * SARAH (Nguyen, Liu, Scheinberg & Takáč 2017) with mini-batches of distinct rows, restarted at
 * the last iterate.
 *
 * Outer loop at x₀: v₀ = ∇f(x₀) (1 round, n oracle calls); x₁ = x₀ − ηv₀. Inner steps t = 1..m−1:
 * b distinct rows B, v_t = (∇ℓ_B(x_t) − ∇ℓ_B(x_{t−1}))/b + λ(x_t − x_{t−1}) + v_{t−1} (1 round, 2b
 * oracle calls: both points on the same rows in one `grad-diff` call); x_{t+1} = x_t − ηv_t. After
 * m steps the next outer loop starts at x_m.
 * Per outer loop: m steps, m rounds, n + 2b(m − 1) oracle calls.
 * Defaults: b = 64, m = ⌈n/b⌉, η = 1/(2·L_max).
 * The estimator is recursive and biased; each outer loop's full gradient is an exact observation
 * of f and ‖∇f‖ at the current iterate.
 *
 * Each round is asked at the next point x_{t+1} = x_t − ηv_t and tell() moves there, so a full
 * gradient is always observed at the current iterate.
 */
import { COORDINATOR_SHARD, KeyedRng } from '@optfleet/proto';
import type { Ask, Driver, DriverState, Observation, ProblemInfo } from '../../driver.js';
import { fullObjective, norm2, sampleDistinctRows } from '../objective.js';

export interface SarahParams {
  readonly stepSize?: number | undefined;
  readonly batchSize: number;
  /** Steps per outer loop m, the full-gradient step included. */
  readonly innerSteps?: number | undefined;
}

export class SarahDriver implements Driver {
  private x: Float64Array;
  private v: Float64Array;
  /** Whether v holds an estimate at x (false only before the first round). */
  private started = false;
  /** Steps taken since the last full gradient. */
  private t = 0;
  private step = 0;
  private pending: 'full' | 'diff' = 'full';
  private next: Float64Array;
  private lastRows: Uint32Array = new Uint32Array(0);
  readonly eta: number;
  readonly b: number;
  readonly m: number;

  constructor(
    private readonly p: ProblemInfo,
    params: SarahParams,
    x0: Float64Array = new Float64Array(p.d),
  ) {
    this.x = x0.slice();
    this.next = x0.slice();
    this.v = new Float64Array(p.d);
    this.b = Math.min(params.batchSize, p.n);
    this.m = params.innerSteps ?? Math.ceil(p.n / this.b);
    this.eta = params.stepSize ?? 1 / (2 * p.lMax);
  }

  ask(): Ask {
    if (!this.started) {
      this.pending = 'full';
      this.next = this.x;
      return { kind: 'round', op: 'loss-grad', points: [this.x], rows: 'all', purpose: 'algorithm' };
    }
    const d = this.p.d;
    this.next = new Float64Array(d);
    for (let j = 0; j < d; j++) this.next[j] = this.x[j]! - this.eta * this.v[j]!;
    if (this.t + 1 >= this.m) {
      this.pending = 'full';
      return { kind: 'round', op: 'loss-grad', points: [this.next], rows: 'all', purpose: 'algorithm' };
    }
    this.pending = 'diff';
    this.lastRows = sampleDistinctRows(new KeyedRng(this.p.seed, this.step, COORDINATOR_SHARD, 'sarah-minibatch'), this.p.n, this.b);
    return { kind: 'round', op: 'grad-diff', points: [this.next, this.x], rows: this.lastRows, purpose: 'algorithm' };
  }

  tell(sum: Float64Array): Observation | null {
    const d = this.p.d;
    const prev = this.x;
    if (this.started) {
      this.x = this.next;
      this.step++;
      this.t++;
    }
    if (this.pending === 'full') {
      const { objective, grad } = fullObjective(this.p, this.x, sum);
      this.v = grad;
      this.t = 0;
      this.started = true;
      return { x: this.x.slice(), objective, gradNorm: norm2(grad), iteration: this.step };
    }
    const invB = 1 / this.lastRows.length;
    const lam = this.p.l2;
    const x = this.x;
    for (let j = 0; j < d; j++) this.v[j] = sum[j]! * invB + lam * (x[j]! - prev[j]!) + this.v[j]!;
    return null;
  }

  iterate(): Float64Array {
    return this.x;
  }

  iterations(): number {
    return this.step;
  }

  snapshot(): DriverState {
    return { x: [...this.x], v: [...this.v], started: this.started, t: this.t, step: this.step };
  }

  restore(s: DriverState): void {
    this.x = Float64Array.from(s['x'] as number[]);
    this.v = Float64Array.from(s['v'] as number[]);
    this.started = s['started'] as boolean;
    this.t = s['t'] as number;
    this.step = s['step'] as number;
  }
}
