/**
 * SVRG (Johnson & Zhang 2013) with mini-batched inner steps.
 *
 * Epoch: snapshot w̃ ← x and μ = ∇f(w̃) (1 round, n oracle calls); then `innerSteps` steps
 * x ← x − η(∇ℓ_B(x) − ∇ℓ_B(w̃))/b + μ + λ(x − w̃)), each one round with 2b oracle calls
 * (both points evaluated on the same rows in one `grad-diff` call).
 * Per epoch: 1 + m rounds, n + 2bm oracle calls. Defaults: b = 64, m = ⌈n/b⌉, η = 1/(3·L_max).
 * The snapshot's full gradient is an exact observation of f and ‖∇f‖ at w̃.
 */
import { COORDINATOR_SHARD, KeyedRng } from '@optfleet/proto';
import type { Ask, Driver, DriverState, Observation, ProblemInfo } from '../../driver.js';
import { fullObjective, norm2, sampleRows } from '../objective.js';

export interface SvrgParams {
  readonly stepSize?: number | undefined;
  readonly batchSize: number;
  readonly innerSteps?: number | undefined;
}

export class SvrgDriver implements Driver {
  private x: Float64Array;
  private snap: Float64Array;
  private mu: Float64Array;
  private phase: 'snapshot' | 'inner' = 'snapshot';
  private t = 0;
  private step = 0;
  private lastRows: Uint32Array = new Uint32Array(0);
  readonly eta: number;
  readonly b: number;
  readonly m: number;

  constructor(
    private readonly p: ProblemInfo,
    params: SvrgParams,
    x0: Float64Array = new Float64Array(p.d),
  ) {
    this.x = x0.slice();
    this.snap = x0.slice();
    this.mu = new Float64Array(p.d);
    this.b = Math.min(params.batchSize, p.n);
    this.m = params.innerSteps ?? Math.ceil(p.n / this.b);
    this.eta = params.stepSize ?? 1 / (3 * p.lMax);
  }

  ask(): Ask {
    if (this.phase === 'snapshot') return { kind: 'round', op: 'loss-grad', points: [this.x], rows: 'all', purpose: 'algorithm' };
    this.lastRows = sampleRows(new KeyedRng(this.p.seed, this.step, COORDINATOR_SHARD, 'svrg-minibatch'), this.p.n, this.b);
    return { kind: 'round', op: 'grad-diff', points: [this.x, this.snap], rows: this.lastRows, purpose: 'algorithm' };
  }

  tell(sum: Float64Array): Observation | null {
    const d = this.p.d;
    if (this.phase === 'snapshot') {
      const { objective, grad } = fullObjective(this.p, this.x, sum);
      this.mu = grad;
      this.snap = this.x.slice();
      this.phase = 'inner';
      this.t = 0;
      return { x: this.snap, objective, gradNorm: norm2(grad), iteration: this.step };
    }
    const invB = 1 / this.lastRows.length;
    const lam = this.p.l2;
    const x = this.x;
    for (let j = 0; j < d; j++) {
      const v = sum[j]! * invB + this.mu[j]! + lam * (x[j]! - this.snap[j]!);
      x[j] = x[j]! - this.eta * v;
    }
    this.step++;
    this.t++;
    if (this.t >= this.m) this.phase = 'snapshot';
    return null;
  }

  iterate(): Float64Array {
    return this.x;
  }

  iterations(): number {
    return this.step;
  }

  snapshot(): DriverState {
    return { x: [...this.x], snap: [...this.snap], mu: [...this.mu], phase: this.phase, t: this.t, step: this.step };
  }

  restore(s: DriverState): void {
    this.x = Float64Array.from(s['x'] as number[]);
    this.snap = Float64Array.from(s['snap'] as number[]);
    this.mu = Float64Array.from(s['mu'] as number[]);
    this.phase = s['phase'] as 'snapshot' | 'inner';
    this.t = s['t'] as number;
    this.step = s['step'] as number;
  }
}
