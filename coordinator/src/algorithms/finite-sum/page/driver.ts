/**
 * PAGE, ProbAbilistic Gradient Estimator (Li, Bao, Zhang & Richtárik 2021), with b = n (the full
 * gradient) and mini-batches of b′ distinct rows.
 *
 * Start: g₀ = ∇f(x₀) (1 round, n oracle calls). Step t: x_{t+1} = x_t − ηg_t; with probability p
 * (the coordinator's coin) g_{t+1} = ∇f(x_{t+1}) (1 round, n oracle calls), otherwise
 * g_{t+1} = g_t + (∇ℓ_{B′}(x_{t+1}) − ∇ℓ_{B′}(x_t))/b′ + λ(x_{t+1} − x_t) (1 round, 2b′ oracle
 * calls: both points on the same rows in one `grad-diff` call).
 * Per step: 1 round and p·n + (1 − p)·2b′ oracle calls in expectation.
 * Defaults: b′ = ⌈√n⌉, p = b′/(n + b′), η = 1/(L_max·(1 + √((1 − p)/(p·b′)))).
 * Every full gradient is an exact observation of f and ‖∇f‖ at the current iterate; after the
 * first it also carries the drift diagnostic ‖g_t − ∇f(x_{t+1})‖ (see {@link Observation.drift}).
 *
 * Each round is asked at the next point x_{t+1} and tell() moves there, so a full gradient is
 * always observed at the current iterate.
 */
import { COORDINATOR_SHARD, KeyedRng } from '@optfleet/proto';
import type { Ask, Driver, DriverState, Observation, ProblemInfo } from '../../driver.js';
import { fullObjective, norm2, sampleDistinctRows } from '../objective.js';

export interface PageParams {
  readonly stepSize?: number | undefined;
  /** Rows b′ per gradient-difference step (default ⌈√n⌉). */
  readonly batchSize?: number | undefined;
  /** Full-gradient probability per step, in (0, 1]. */
  readonly p?: number | undefined;
  /**
   * Before each full gradient but the first, run one evaluation round (2b′ calls, counted as
   * evaluation) that forms the estimator at the same point, so `drift` is exactly ‖g̃(x) − ∇f(x)‖.
   * Off: `drift` is the free proxy ‖g_t − ∇f(x_{t+1})‖.
   */
  readonly driftCheck?: boolean | undefined;
}

export class PageDriver implements Driver {
  private x: Float64Array;
  private g: Float64Array;
  /** Whether g holds an estimate at x (false only before the first round). */
  private started = false;
  private step = 0;
  private pending: 'full' | 'diff' | 'drift' = 'full';
  private next: Float64Array;
  private lastRows: Uint32Array = new Uint32Array(0);
  /** The estimator at the pending snapshot point, when driftCheck formed it. */
  private driftEstimate: Float64Array | null = null;
  readonly eta: number;
  readonly b: number;
  readonly prob: number;

  constructor(
    private readonly p: ProblemInfo,
    private readonly params: PageParams,
    x0: Float64Array = new Float64Array(p.d),
  ) {
    this.x = x0.slice();
    this.next = x0.slice();
    this.g = new Float64Array(p.d);
    this.b = Math.min(params.batchSize ?? Math.ceil(Math.sqrt(p.n)), p.n);
    this.prob = params.p ?? this.b / (p.n + this.b);
    this.eta = params.stepSize ?? 1 / (p.lMax * (1 + Math.sqrt((1 - this.prob) / (this.prob * this.b))));
  }

  ask(): Ask {
    if (!this.started) {
      this.pending = 'full';
      this.next = this.x;
      return { kind: 'round', op: 'loss-grad', points: [this.x], rows: 'all', purpose: 'algorithm' };
    }
    const d = this.p.d;
    this.next = new Float64Array(d);
    for (let j = 0; j < d; j++) this.next[j] = this.x[j]! - this.eta * this.g[j]!;
    // The coin and the rows for g_{t+1} are keyed by t.
    if (new KeyedRng(this.p.seed, this.step, COORDINATOR_SHARD, 'page-coin').nextFloat() < this.prob) {
      if (this.params.driftCheck === true && this.driftEstimate === null) {
        this.pending = 'drift';
        this.lastRows = sampleDistinctRows(new KeyedRng(this.p.seed, this.step, COORDINATOR_SHARD, 'page-drift'), this.p.n, this.b);
        return { kind: 'round', op: 'grad-diff', points: [this.next, this.x], rows: this.lastRows, purpose: 'evaluation' };
      }
      this.pending = 'full';
      return { kind: 'round', op: 'loss-grad', points: [this.next], rows: 'all', purpose: 'algorithm' };
    }
    this.pending = 'diff';
    this.lastRows = sampleDistinctRows(new KeyedRng(this.p.seed, this.step, COORDINATOR_SHARD, 'page-minibatch'), this.p.n, this.b);
    return { kind: 'round', op: 'grad-diff', points: [this.next, this.x], rows: this.lastRows, purpose: 'algorithm' };
  }

  tell(sum: Float64Array): Observation | null {
    const d = this.p.d;
    if (this.pending === 'drift') {
      // The estimator the recursion would have formed at `next`; the state is left untouched.
      const invB = 1 / this.lastRows.length;
      this.driftEstimate = new Float64Array(d);
      for (let j = 0; j < d; j++) this.driftEstimate[j] = this.g[j]! + sum[j]! * invB + this.p.l2 * (this.next[j]! - this.x[j]!);
      return null;
    }
    const prev = this.x;
    const started = this.started;
    if (started) {
      this.x = this.next;
      this.step++;
    }
    if (this.pending === 'full') {
      const { objective, grad } = fullObjective(this.p, this.x, sum);
      let drift: number | undefined;
      if (started) {
        const est = this.driftEstimate ?? this.g;
        let s = 0;
        for (let j = 0; j < d; j++) s += (est[j]! - grad[j]!) ** 2;
        drift = Math.sqrt(s);
        this.driftEstimate = null;
      }
      this.g = grad;
      this.started = true;
      const obs = { x: this.x.slice(), objective, gradNorm: norm2(grad), iteration: this.step };
      return drift === undefined ? obs : { ...obs, drift };
    }
    const invB = 1 / this.lastRows.length;
    const lam = this.p.l2;
    const x = this.x;
    for (let j = 0; j < d; j++) this.g[j] = this.g[j]! + sum[j]! * invB + lam * (x[j]! - prev[j]!);
    return null;
  }

  iterate(): Float64Array {
    return this.x;
  }

  iterations(): number {
    return this.step;
  }

  snapshot(): DriverState {
    return {
      x: [...this.x],
      g: [...this.g],
      started: this.started,
      step: this.step,
      driftEstimate: this.driftEstimate === null ? null : [...this.driftEstimate],
    };
  }

  restore(s: DriverState): void {
    this.x = Float64Array.from(s['x'] as number[]);
    this.g = Float64Array.from(s['g'] as number[]);
    this.started = s['started'] as boolean;
    this.step = s['step'] as number;
    const de = s['driftEstimate'] as number[] | null | undefined;
    this.driftEstimate = de === null || de === undefined ? null : Float64Array.from(de);
  }
}
