/**
 * The sample-free upper-level term r(x) = ρΣ_k x_k²/(1+x_k²) + (ν/2)‖x‖² of mbbo-quadratic
 * (spec §4(a)); ∇_x f_i = ∇r(x) for every block and sample, so the coordinator adds it exactly
 * instead of shipping it through the workers. mbbo-ridge has no direct x-dependence (ρ = ν = 0).
 */

export function upperValue(x: Float64Array, rho: number, nu: number): number {
  let s = 0;
  for (let k = 0; k < x.length; k++) {
    const v = x[k]!;
    s += (rho * v * v) / (1 + v * v) + 0.5 * nu * v * v;
  }
  return s;
}

/** out ← ∇r(x) = 2ρx/(1+x²)² + νx (elementwise). */
export function upperGrad(x: Float64Array, rho: number, nu: number, out: Float64Array): Float64Array {
  for (let k = 0; k < x.length; k++) {
    const v = x[k]!;
    const q = 1 + v * v;
    out[k] = (2 * rho * v) / (q * q) + nu * v;
  }
  return out;
}
