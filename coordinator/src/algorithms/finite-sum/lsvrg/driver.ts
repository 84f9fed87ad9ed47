/**
 * Loopless SVRG (Hofmann et al. 2015; Kovalev, Horváth & Richtárik 2020) with mini-batched steps.
 *
 * Start: w ← x₀ and μ = ∇f(w) (1 round, n oracle calls). Step: b rows B drawn with replacement;
 * v = (∇ℓ_B(x) − ∇ℓ_B(w))/b + μ + λ(x − w), x ← x − ηv (1 round, 2b oracle calls: both points on the
 * same rows in one `grad-diff` call). After each step, with probability p (the coordinator's coin)
 * w ← x and μ = ∇f(w) (1 round, n oracle calls).
 * Per step: 1 + p rounds and 2b + p·n oracle calls in expectation.
 * Defaults: b = 64, p = b/n, η = 1/(3·L_max).
 * Every full gradient is an exact observation of f and ‖∇f‖ at the current iterate.
 */
import { COORDINATOR_SHARD, KeyedRng } from '@optfleet/proto';
import type { Ask, Driver, DriverState, Observation, ProblemInfo } from '../../driver.js';
import { fullObjective, norm2, sampleRows } from '../objective.js';

export interface LsvrgParams {
  readonly stepSize?: number | undefined;
  readonly batchSize: number;
  /** Snapshot probability per step, in (0, 1]. */
  readonly p?: number | undefined;
}

export class LsvrgDriver implements Driver {
  private x: Float64Array;
  private snap: Float64Array;
  private mu: Float64Array;
  private phase: 'snapshot' | 'step' = 'snapshot';
  private step = 0;
  private lastRows: Uint32Array = new Uint32Array(0);
  readonly eta: number;
  readonly b: number;
  readonly prob: number;

  constructor(
    private readonly p: ProblemInfo,
    params: LsvrgParams,
    x0: Float64Array = new Float64Array(p.d),
  ) {
    this.x = x0.slice();
    this.snap = x0.slice();
    this.mu = new Float64Array(p.d);
    this.b = Math.min(params.batchSize, p.n);
    this.prob = params.p ?? this.b / p.n;
    this.eta = params.stepSize ?? 1 / (3 * p.lMax);
  }

  ask(): Ask {
    if (this.phase === 'snapshot') return { kind: 'round', op: 'loss-grad', points: [this.x], rows: 'all', purpose: 'algorithm' };
    this.lastRows = sampleRows(new KeyedRng(this.p.seed, this.step, COORDINATOR_SHARD, 'lsvrg-minibatch'), this.p.n, this.b);
    return { kind: 'round', op: 'grad-diff', points: [this.x, this.snap], rows: this.lastRows, purpose: 'algorithm' };
  }

  tell(sum: Float64Array): Observation | null {
    const d = this.p.d;
    if (this.phase === 'snapshot') {
      const { objective, grad } = fullObjective(this.p, this.x, sum);
      this.mu = grad;
      this.snap = this.x.slice();
      this.phase = 'step';
      return { x: this.x.slice(), objective, gradNorm: norm2(grad), iteration: this.step };
    }
    const invB = 1 / this.lastRows.length;
    const lam = this.p.l2;
    const x = this.x;
    for (let j = 0; j < d; j++) {
      const v = sum[j]! * invB + this.mu[j]! + lam * (x[j]! - this.snap[j]!);
      x[j] = x[j]! - this.eta * v;
    }
    this.step++;
    // The coin for the snapshot after step t is keyed by t (the step count after it).
    if (new KeyedRng(this.p.seed, this.step, COORDINATOR_SHARD, 'lsvrg-coin').nextFloat() < this.prob) this.phase = 'snapshot';
    return null;
  }

  iterate(): Float64Array {
    return this.x;
  }

  iterations(): number {
    return this.step;
  }

  snapshot(): DriverState {
    return { x: [...this.x], snap: [...this.snap], mu: [...this.mu], phase: this.phase, step: this.step };
  }

  restore(s: DriverState): void {
    this.x = Float64Array.from(s['x'] as number[]);
    this.snap = Float64Array.from(s['snap'] as number[]);
    this.mu = Float64Array.from(s['mu'] as number[]);
    this.phase = s['phase'] as 'snapshot' | 'step';
    this.step = s['step'] as number;
  }
}
