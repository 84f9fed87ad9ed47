/**
 * The graph-token objective f(θ) = (1/N) Σ_i F_i(θ) at the coordinator: θ* (closed form for
 * quadratics, Newton for logistic shards), and the H and J of the covariance theory. The agents'
 * data is regenerated from the seed with the same proto functions the workers use.
 */
import { addDirection, agentData, agentRows, agentTruth, thetaDim, type AgentLossSpec, type BaseChain, type Graph } from '@optfleet/proto';
import { luFactor, luSolve } from './dense.js';

export interface GraphObjective {
  readonly d: number;
  readonly thetaStar: Float64Array;
  /** Rows H(θ*, i) = −w_i ∇F_i(θ*) (N×d), w_i = 1/(N μ_i). */
  readonly h: Float64Array;
  /** J = −(1/N) Σ ∇²F_i(θ*) (d×d). */
  readonly j: Float64Array;
  /** ‖(1/N) Σ ∇F_i(θ*)‖: how well θ* solves the problem (≈ 1e-15 after Newton). */
  readonly gradNorm: number;
}

function allAgents(s: AgentLossSpec, g: Graph): { x: Float64Array; y: Float64Array } {
  const rpa = agentRows(s);
  const d = thetaDim(s);
  const x = new Float64Array(g.n * rpa * d);
  const y = new Float64Array(g.n * rpa);
  const truth = agentTruth(s);
  const rx = new Float64Array(rpa * d);
  const ry = new Float64Array(rpa);
  for (let i = 0; i < g.n; i++) {
    agentData(s, g, i, truth, rx, ry);
    x.set(rx, i * rpa * d);
    y.set(ry, i * rpa);
  }
  return { x, y };
}

/** Mean direction −(1/N) Σ ∇F_i(θ) (unweighted). */
function meanDirection(s: AgentLossSpec, n: number, x: Float64Array, y: Float64Array, kappa: number, theta: Float64Array): Float64Array {
  const d = thetaDim(s);
  const rpa = agentRows(s);
  const out = new Float64Array(d);
  for (let i = 0; i < n; i++) addDirection(s.loss, d, rpa, kappa, x, i * rpa * d, y, i * rpa, theta, 0, 1 / n, out);
  return out;
}

/** −(1/N) Σ ∇²F_i(θ). */
function meanJacobian(s: AgentLossSpec, n: number, x: Float64Array, kappa: number, theta: Float64Array): Float64Array {
  const d = thetaDim(s);
  const j = new Float64Array(d * d);
  if (s.loss === 'quadratic') {
    for (let a = 0; a < d; a++) j[a * d + a] = -1;
    return j;
  }
  const rpa = agentRows(s);
  const scale = 1 / (n * rpa);
  for (let r = 0; r < n * rpa; r++) {
    let z = 0;
    for (let a = 0; a < d; a++) z += theta[a]! * x[r * d + a]!;
    const sg = 1 / (1 + Math.exp(-z));
    const w = sg * (1 - sg) * scale;
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) j[a * d + b]! -= w * x[r * d + a]! * x[r * d + b]!;
  }
  for (let a = 0; a < d; a++) j[a * d + a]! -= kappa;
  return j;
}

export function graphObjective(s: AgentLossSpec, g: Graph, chain: BaseChain, kappa: number): GraphObjective {
  const d = thetaDim(s);
  const rpa = agentRows(s);
  const { x, y } = allAgents(s, g);
  const theta = new Float64Array(d);
  // Newton: θ ← θ − J⁻¹ h(θ) with h the mean direction (exact in one step for quadratics).
  for (let it = 0; it < 50; it++) {
    const hv = meanDirection(s, g.n, x, y, kappa, theta);
    const jm = meanJacobian(s, g.n, x, kappa, theta);
    const step = luSolve(luFactor(jm, d), hv, 1);
    let size = 0;
    for (let a = 0; a < d; a++) {
      theta[a]! -= step[a]!;
      size = Math.max(size, Math.abs(step[a]!));
    }
    if (size < 1e-14 * (1 + Math.max(...theta.map(Math.abs)))) break;
  }
  const hRows = new Float64Array(g.n * d);
  const row = new Float64Array(d);
  for (let i = 0; i < g.n; i++) {
    row.fill(0);
    addDirection(s.loss, d, rpa, kappa, x, i * rpa * d, y, i * rpa, theta, 0, chain.weight[i]!, row);
    hRows.set(row, i * d);
  }
  const res = meanDirection(s, g.n, x, y, kappa, theta);
  return { d, thetaStar: theta, h: hRows, j: meanJacobian(s, g.n, x, kappa, theta), gradNorm: Math.hypot(...res) };
}

/** Dense P (N×N) from the chain's CSR rows. */
export function densePattern(c: BaseChain): Float64Array {
  const p = new Float64Array(c.n * c.n);
  for (let i = 0; i < c.n; i++) for (let e = c.rowPtr[i]!; e < c.rowPtr[i + 1]!; e++) p[i * c.n + c.col[e]!]! += c.prob[e]!;
  return p;
}
