/** ∇_x f = ∇r(x) of mbbo-quadratic against central finite differences of r (rel. error ≤ 1e-6). */
import { describe, expect, it } from 'vitest';
import { KeyedRng } from '@optfleet/proto';
import { upperGrad, upperValue } from './upper.js';

describe('upper term r(x) = ρΣx²/(1+x²) + (ν/2)‖x‖²', () => {
  it('∇r matches central differences', () => {
    const rng = new KeyedRng(5, 0, 0, 'upper-test');
    const x = Float64Array.from({ length: 12 }, () => 2 * rng.nextNormal());
    const g = upperGrad(x, 0.1, 1e-3, new Float64Array(12));
    const h = 1e-5;
    let num = 0;
    let den = 0;
    for (let k = 0; k < 12; k++) {
      const p = x.slice();
      const q = x.slice();
      p[k] = p[k]! + h;
      q[k] = q[k]! - h;
      const fd = (upperValue(p, 0.1, 1e-3) - upperValue(q, 0.1, 1e-3)) / (2 * h);
      num += (g[k]! - fd) ** 2;
      den += fd * fd;
    }
    expect(Math.sqrt(num / den)).toBeLessThan(1e-6);
  });
});
