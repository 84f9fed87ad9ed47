/**
 * Extra-anchored gradient, EAG-C (Yoon & Ryu 2021):
 * z̄ = z + β_k(z₀ − z) − ηF(z), z⁺ = z + β_k(z₀ − z) − ηF(z̄), β_k = 1/(k+2); default η = 1/(8L).
 * Per iteration: 2 rounds, 2n oracle calls; the first is an exact observation of the residual.
 * O(1/k) last-iterate residual for monotone Lipschitz F.
 */
import type { ProblemInfo } from '../../driver.js';
import { EgDriver, type EgParams } from '../eg/driver.js';

export class EagDriver extends EgDriver {
  constructor(p: ProblemInfo, params: EgParams, x0: Float64Array = new Float64Array(p.d)) {
    super(p, params, x0, 8);
  }

  protected override beta(): number {
    return 1 / (this.k + 2);
  }
}
