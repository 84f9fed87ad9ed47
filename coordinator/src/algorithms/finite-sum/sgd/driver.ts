/**
 * Mini-batch SGD (baseline): x ← x − η_t(∇ℓ_B(x)/b + λx), η_t = η₀/(1 + t/decaySteps).
 * One round and b oracle calls per step; every `evalEvery` steps an evaluation round (n calls,
 * counted as evaluation) observes f and ‖∇f‖. Default η₀ = 1/L_max.
 */
import { COORDINATOR_SHARD, KeyedRng } from '@optfleet/proto';
import type { Ask, Driver, DriverState, Observation, ProblemInfo } from '../../driver.js';
import { fullObjective, norm2, sampleRows } from '../objective.js';

export interface SgdParams {
  readonly stepSize?: number | undefined;
  readonly batchSize: number;
  readonly decaySteps: number;
  readonly evalEvery: number;
}

export class SgdDriver implements Driver {
  private x: Float64Array;
  private step = 0;
  private evaluatedAt = -1;
  private pending: 'eval' | 'step' = 'eval';
  private lastRows: Uint32Array = new Uint32Array(0);
  readonly eta0: number;
  readonly b: number;

  constructor(
    private readonly p: ProblemInfo,
    private readonly params: SgdParams,
    x0: Float64Array = new Float64Array(p.d),
  ) {
    this.x = x0.slice();
    this.b = Math.min(params.batchSize, p.n);
    this.eta0 = params.stepSize ?? 1 / p.lMax;
  }

  ask(): Ask {
    if (this.step % this.params.evalEvery === 0 && this.evaluatedAt !== this.step) {
      this.pending = 'eval';
      return { kind: 'round', op: 'loss-grad', points: [this.x], rows: 'all', purpose: 'evaluation' };
    }
    this.pending = 'step';
    this.lastRows = sampleRows(new KeyedRng(this.p.seed, this.step, COORDINATOR_SHARD, 'sgd-minibatch'), this.p.n, this.b);
    return { kind: 'round', op: 'loss-grad', points: [this.x], rows: this.lastRows, purpose: 'algorithm' };
  }

  tell(sum: Float64Array): Observation | null {
    if (this.pending === 'eval') {
      this.evaluatedAt = this.step;
      const { objective, grad } = fullObjective(this.p, this.x, sum);
      return { x: this.x.slice(), objective, gradNorm: norm2(grad), iteration: this.step };
    }
    const d = this.p.d;
    const eta = this.params.decaySteps > 0 ? this.eta0 / (1 + this.step / this.params.decaySteps) : this.eta0;
    const invB = 1 / this.lastRows.length;
    for (let j = 0; j < d; j++) this.x[j] = this.x[j]! - eta * (sum[j]! * invB + this.p.l2 * this.x[j]!);
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
    return { x: [...this.x], step: this.step, evaluatedAt: this.evaluatedAt };
  }

  restore(s: DriverState): void {
    this.x = Float64Array.from(s['x'] as number[]);
    this.step = s['step'] as number;
    this.evaluatedAt = s['evaluatedAt'] as number;
  }
}
