/**
 * SAGA (Defazio, Bach & Lacoste-Julien 2014), mini-batched, with the gradient table as sticky
 * per-shard state on the workers. For GLMs ∇ℓ_j(x) = ℓ'_j(x)·x_j, so the table is one slope α_j
 * per row, kept where row j lives; it never travels.
 *
 * Start: `saga-init` at x₀ fills the table and returns ∇f's data part (n oracle calls, 1 round):
 * ᾱ = (1/n)Σα_j x_j. Step: b distinct rows B; workers return Δ = Σ_{j∈B}(ℓ'_j(x) − α_j)x_j and
 * update α_j; the coordinator takes g = Δ/b + ᾱ + λx, x ← x − ηg, ᾱ ← ᾱ + Δ/n (b calls, 1 round).
 * Every `evalEvery` steps an evaluation round (n calls, counted apart) observes f and ‖∇f‖.
 * Default η = 1/(3·L_max).
 */
import { COORDINATOR_SHARD, KeyedRng } from '@optfleet/proto';
import type { Ask, Driver, DriverState, Observation, ProblemInfo } from '../../driver.js';
import { fullObjective, norm2, sampleDistinctRows } from '../objective.js';

export interface SagaParams {
  readonly stepSize?: number | undefined;
  readonly batchSize: number;
  readonly evalEvery: number;
}

export class SagaDriver implements Driver {
  private x: Float64Array;
  private avg: Float64Array;
  private step = 0;
  private initialized = false;
  private evaluatedAt = 0;
  private pending: 'init' | 'eval' | 'step' = 'init';
  private lastRows: Uint32Array = new Uint32Array(0);
  readonly eta: number;
  readonly b: number;

  constructor(
    private readonly p: ProblemInfo,
    private readonly params: SagaParams,
    x0: Float64Array = new Float64Array(p.d),
  ) {
    this.x = x0.slice();
    this.avg = new Float64Array(p.d);
    this.b = Math.min(params.batchSize, p.n);
    this.eta = params.stepSize ?? 1 / (3 * p.lMax);
  }

  ask(): Ask {
    if (!this.initialized) {
      this.pending = 'init';
      return { kind: 'round', op: 'saga-init', points: [this.x], rows: 'all', purpose: 'algorithm' };
    }
    if (this.step % this.params.evalEvery === 0 && this.evaluatedAt !== this.step) {
      this.pending = 'eval';
      return { kind: 'round', op: 'loss-grad', points: [this.x], rows: 'all', purpose: 'evaluation' };
    }
    this.pending = 'step';
    this.lastRows = sampleDistinctRows(new KeyedRng(this.p.seed, this.step, COORDINATOR_SHARD, 'saga-minibatch'), this.p.n, this.b);
    return { kind: 'round', op: 'saga-step', points: [this.x], rows: this.lastRows, purpose: 'algorithm' };
  }

  tell(sum: Float64Array): Observation | null {
    const d = this.p.d;
    if (this.pending === 'init' || this.pending === 'eval') {
      const { objective, grad } = fullObjective(this.p, this.x, sum);
      if (this.pending === 'init') {
        for (let j = 0; j < d; j++) this.avg[j] = sum[j]! / this.p.n;
        this.initialized = true;
      }
      this.evaluatedAt = this.step;
      return { x: this.x.slice(), objective, gradNorm: norm2(grad), iteration: this.step };
    }
    const invB = 1 / this.lastRows.length;
    const invN = 1 / this.p.n;
    const lam = this.p.l2;
    for (let j = 0; j < d; j++) {
      const delta = sum[j]!;
      const g = delta * invB + this.avg[j]! + lam * this.x[j]!;
      this.avg[j] = this.avg[j]! + delta * invN;
      this.x[j] = this.x[j]! - this.eta * g;
    }
    this.step++;
    return null;
  }

  iterate(): Float64Array {
    return this.x;
  }

  iterations(): number {
    return this.step;
  }

  snapshot(): DriverState {
    return { x: [...this.x], avg: [...this.avg], step: this.step, initialized: this.initialized, evaluatedAt: this.evaluatedAt };
  }

  restore(s: DriverState): void {
    this.x = Float64Array.from(s['x'] as number[]);
    this.avg = Float64Array.from(s['avg'] as number[]);
    this.step = s['step'] as number;
    this.initialized = s['initialized'] as boolean;
    this.evaluatedAt = s['evaluatedAt'] as number;
  }
}
