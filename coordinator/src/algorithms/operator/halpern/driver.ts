/**
 * Deterministic Halpern iteration (Diakonikolas 2020; Lieder 2021), cocoercive case:
 * u_{k+1} = λ_k u₀ + (1 − λ_k)·J(u_k − ηF(u_k)), λ_k = 1/(k+2), η ≤ 2/L_F (default 1/L); J the
 * problem's projection (identity when unconstrained).
 * Per iteration: 1 round, n oracle calls (one full `op-eval`), which is also an exact observation
 * of the residual ‖F(u_k)‖. Guarantee: ‖u_k − T u_k‖ ≤ 2D/(k+1) with T = I − ηF.
 */
import type { Ask, Driver, DriverState, Observation, ProblemInfo } from '../../driver.js';
import { meanOperator, observe, project } from '../residual.js';

export interface HalpernParams {
  readonly stepSize?: number | undefined;
}

export class HalpernDriver implements Driver {
  private readonly u0: Float64Array;
  private u: Float64Array;
  private k = 0;
  readonly eta: number;

  constructor(
    private readonly p: ProblemInfo,
    params: HalpernParams,
    x0: Float64Array = new Float64Array(p.d),
  ) {
    this.u0 = x0.slice();
    this.u = x0.slice();
    this.eta = params.stepSize ?? 1 / p.lMax;
  }

  ask(): Ask {
    return { kind: 'round', op: 'op-eval', points: [this.u], rows: 'all', purpose: 'algorithm' };
  }

  tell(sum: Float64Array): Observation {
    const F = meanOperator(this.p, sum, this.u);
    const obs = observe(this.p, this.u, F, this.k);
    const lambda = 1 / (this.k + 2);
    const T = new Float64Array(this.u.length);
    for (let j = 0; j < T.length; j++) T[j] = this.u[j]! - this.eta * F[j]!;
    project(this.p, T);
    for (let j = 0; j < this.u.length; j++) this.u[j] = lambda * this.u0[j]! + (1 - lambda) * T[j]!;
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
    return { u0: [...this.u0], u: [...this.u], k: this.k };
  }

  restore(s: DriverState): void {
    this.u0.set(s['u0'] as number[]);
    this.u = Float64Array.from(s['u'] as number[]);
    this.k = s['k'] as number;
  }
}
