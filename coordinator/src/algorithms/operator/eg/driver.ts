/**
 * Extragradient (Korpelevich 1976): z̄ = J(z − ηF(z)), z⁺ = J(z − ηF(z̄)); η < 1/L_F (default
 * 1/(2L)); J the problem's projection.
 * Per iteration: 2 rounds, 2n oracle calls (two full `op-eval`s); the first is an exact
 * observation of the residual at z.
 */
import type { Ask, Driver, DriverState, Observation, ProblemInfo } from '../../driver.js';
import { meanOperator, observe, project } from '../residual.js';

export interface EgParams {
  readonly stepSize?: number | undefined;
}

export class EgDriver implements Driver {
  protected z: Float64Array;
  protected readonly z0: Float64Array;
  protected zBar: Float64Array;
  protected phase: 'first' | 'second' = 'first';
  protected k = 0;
  readonly eta: number;

  constructor(
    protected readonly p: ProblemInfo,
    params: EgParams,
    x0: Float64Array = new Float64Array(p.d),
    defaultScale = 2,
  ) {
    this.z = x0.slice();
    this.z0 = x0.slice();
    this.zBar = x0.slice();
    this.eta = params.stepSize ?? 1 / (defaultScale * p.lMax);
  }

  /** The anchoring weight β_k: 0 for EG. */
  protected beta(): number {
    return 0;
  }

  ask(): Ask {
    return { kind: 'round', op: 'op-eval', points: [this.phase === 'first' ? this.z : this.zBar], rows: 'all', purpose: 'algorithm' };
  }

  tell(sum: Float64Array): Observation | null {
    const F = meanOperator(this.p, sum, this.phase === 'first' ? this.z : this.zBar);
    const b = this.beta();
    const base = (j: number): number => this.z[j]! + b * (this.z0[j]! - this.z[j]!);
    if (this.phase === 'first') {
      const obs = observe(this.p, this.z, F, this.k);
      for (let j = 0; j < this.z.length; j++) this.zBar[j] = base(j) - this.eta * F[j]!;
      project(this.p, this.zBar);
      this.phase = 'second';
      return obs;
    }
    const next = new Float64Array(this.z.length);
    for (let j = 0; j < next.length; j++) next[j] = base(j) - this.eta * F[j]!;
    this.z = project(this.p, next);
    this.phase = 'first';
    this.k++;
    return null;
  }

  iterate(): Float64Array {
    return this.z;
  }

  iterations(): number {
    return this.k;
  }

  snapshot(): DriverState {
    return { z: [...this.z], z0: [...this.z0], zBar: [...this.zBar], phase: this.phase, k: this.k };
  }

  restore(s: DriverState): void {
    this.z = Float64Array.from(s['z'] as number[]);
    this.z0.set(s['z0'] as number[]);
    this.zBar = Float64Array.from(s['zBar'] as number[]);
    this.phase = s['phase'] as 'first' | 'second';
    this.k = s['k'] as number;
  }
}
