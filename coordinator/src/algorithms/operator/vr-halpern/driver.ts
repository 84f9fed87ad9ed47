/**
 * VR-Halpern, Algorithm 1 of Cai, Alacaoglu & Diakonikolas (ICLR 2024): Halpern iteration with a
 * PAGE/SARAH-type recursive estimator F̃ of F, for cocoercive (on average) finite sums.
 *
 *   λ_k = 2/(k+4);  p_k = 1 for k ≤ 1, else max(4/(k+4), 4/(√n+5))   (reference code's schedule)
 *   with probability p_k: F̃ ← F(u_k)                      1 round, n oracle calls (exact observation)
 *   otherwise:            F̃ ← F̃ + (1/b)Σ_{j∈S}[F_j(u_k) − F_j(u_{k−1})]
 *                         S: b distinct components (default ⌈√n⌉); both points on the same
 *                         components in one `op-diff` call: 1 round, 2b oracle calls
 *   u_{k+1} = J(λ_k u₀ + (1 − λ_k)u_k − ηF̃)                (η·F̃ is not scaled by 1 − λ_k; J the
 *                                                          problem's projection)
 *
 * Expected cost per iteration p_k·n + (1 − p_k)·2b ≈ 6√n after the warm-up. Default η = 1/L.
 * `fullBatch: true` uses p_k ≡ 1: the same iteration with exact F, isolating variance reduction.
 */
import { COORDINATOR_SHARD, KeyedRng } from '@optfleet/proto';
import type { Ask, Driver, DriverState, Observation, ProblemInfo } from '../../driver.js';
import { sampleDistinctRows } from '../../finite-sum/objective.js';
import { meanDifference, meanOperator, observe, project } from '../residual.js';

export interface VrHalpernParams {
  readonly stepSize?: number | undefined;
  readonly batchSize?: number | undefined;
  readonly fullBatch: boolean;
  /**
   * Before each full snapshot after the first two iterations, run one evaluation round (2b calls,
   * counted as evaluation) forming the estimator F̃ at the same point; the observation's `drift`
   * is then ‖F̃(u_k) − F(u_k)‖ (spec §7's health metric).
   */
  readonly driftCheck?: boolean | undefined;
}

export class VrHalpernDriver implements Driver {
  private readonly u0: Float64Array;
  private u: Float64Array;
  private uPrev: Float64Array;
  private Ft: Float64Array;
  private k = 0;
  private pending: 'full' | 'diff' | 'drift' = 'full';
  private lastRows: Uint32Array = new Uint32Array(0);
  private driftEstimate: Float64Array | null = null;
  readonly eta: number;
  readonly b: number;

  constructor(
    private readonly p: ProblemInfo,
    private readonly params: VrHalpernParams,
    x0: Float64Array = new Float64Array(p.d),
  ) {
    this.u0 = x0.slice();
    this.u = x0.slice();
    this.uPrev = x0.slice();
    this.Ft = new Float64Array(p.d);
    this.eta = params.stepSize ?? 1 / p.lMax;
    this.b = Math.min(params.batchSize ?? Math.ceil(Math.sqrt(p.n)), p.n);
  }

  /** Full-snapshot probability at iteration k. */
  probability(k: number): number {
    if (this.params.fullBatch || k <= 1) return 1;
    return Math.max(4 / (k + 4), 4 / (Math.sqrt(this.p.n) + 5));
  }

  ask(): Ask {
    const coin = new KeyedRng(this.p.seed, this.k, COORDINATOR_SHARD, 'vr-halpern-coin').nextFloat();
    if (coin < this.probability(this.k)) {
      if (this.params.driftCheck === true && this.k >= 2 && this.driftEstimate === null) {
        this.pending = 'drift';
        this.lastRows = sampleDistinctRows(new KeyedRng(this.p.seed, this.k, COORDINATOR_SHARD, 'vr-halpern-drift'), this.p.n, this.b);
        return { kind: 'round', op: 'op-diff', points: [this.u, this.uPrev], rows: this.lastRows, purpose: 'evaluation' };
      }
      this.pending = 'full';
      return { kind: 'round', op: 'op-eval', points: [this.u], rows: 'all', purpose: 'algorithm' };
    }
    this.pending = 'diff';
    this.lastRows = sampleDistinctRows(new KeyedRng(this.p.seed, this.k, COORDINATOR_SHARD, 'vr-halpern-batch'), this.p.n, this.b);
    return { kind: 'round', op: 'op-diff', points: [this.u, this.uPrev], rows: this.lastRows, purpose: 'algorithm' };
  }

  tell(sum: Float64Array): Observation | null {
    const d = this.p.d;
    if (this.pending === 'drift') {
      const D = meanDifference(this.p, sum, this.lastRows.length, this.u, this.uPrev);
      this.driftEstimate = new Float64Array(d);
      for (let j = 0; j < d; j++) this.driftEstimate[j] = this.Ft[j]! + D[j]!;
      return null;
    }
    let obs: Observation | null = null;
    if (this.pending === 'full') {
      this.Ft = meanOperator(this.p, sum, this.u);
      obs = observe(this.p, this.u, this.Ft, this.k);
      if (this.driftEstimate !== null) {
        let s2 = 0;
        for (let j = 0; j < d; j++) s2 += (this.driftEstimate[j]! - this.Ft[j]!) ** 2;
        obs = { ...obs, drift: Math.sqrt(s2) };
        this.driftEstimate = null;
      }
    } else {
      const D = meanDifference(this.p, sum, this.lastRows.length, this.u, this.uPrev);
      for (let j = 0; j < d; j++) this.Ft[j] = this.Ft[j]! + D[j]!;
    }
    const lambda = 2 / (this.k + 4);
    const next = new Float64Array(d);
    for (let j = 0; j < d; j++) next[j] = lambda * this.u0[j]! + (1 - lambda) * this.u[j]! - this.eta * this.Ft[j]!;
    project(this.p, next);
    this.uPrev = this.u;
    this.u = next;
    this.k++;
    return obs;
  }

  iterate(): Float64Array {
    return this.u;
  }

  iterations(): number {
    return this.k;
  }

  snapshot(): DriverState {
    return {
      u0: [...this.u0],
      u: [...this.u],
      uPrev: [...this.uPrev],
      Ft: [...this.Ft],
      k: this.k,
      driftEstimate: this.driftEstimate === null ? null : [...this.driftEstimate],
    };
  }

  restore(s: DriverState): void {
    this.u0.set(s['u0'] as number[]);
    this.u = Float64Array.from(s['u'] as number[]);
    this.uPrev = Float64Array.from(s['uPrev'] as number[]);
    this.Ft = Float64Array.from(s['Ft'] as number[]);
    this.k = s['k'] as number;
    const de = s['driftEstimate'] as number[] | null | undefined;
    this.driftEstimate = de === null || de === undefined ? null : Float64Array.from(de);
  }
}
